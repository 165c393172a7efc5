#!/usr/bin/env bash
# Installs what the kiosk needs and runs it. Idempotent: run it as often as you like.
#   ./setup.sh demo   install, then start the kiosk with simulated devices
#   ./setup.sh test   install, then run every test headless under Xvfb
#   ./setup.sh deps   install only (Debian packages, .venv, compiled translations)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc   # the virtualenv, and wheels that compile
  linux-libc-dev                         # input.h, which the evdev package compiles against
  xvfb xauth                             # a screen for tests and headless demos
  xdotool x11-utils                      # real pointer input (and xwininfo) for app tests
  libgl1 libgl1-mesa-dri libegl1 libmtdev1  # OpenGL (Mesa) and touch input for Kivy
  fonts-noto-cjk fontconfig              # Chinese text, and fc-match to find it
  gettext                                # msgfmt for the translation catalogues
  sqlite3                                # the journal, by hand
  libzbar0                               # tests decode the on-screen QR codes (pyzbar)
  postgresql                             # central server tests on PostgreSQL (a throwaway cluster)
  chromium chromium-driver               # central server pages tested in headless Chromium
)
VENV=.venv
SCREEN="-screen 0 1280x800x24"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

make_venv() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation --editable .
}

compile_translations() {
  local po
  for po in kiosk/locale/*/LC_MESSAGES/*.po central/locale/*/LC_MESSAGES/*.po; do
    msgfmt --check -o "${po%.po}.mo" "$po"
  done
}

install_all() {
  install_packages
  make_venv
  compile_translations
}

has_display() {
  [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]
}

run_tests() {
  local status=0
  xvfb-run -a -s "$SCREEN" "$VENV/bin/python" -m pytest "$@" || status=$?
  if [ "$status" -eq 5 ]; then
    echo "setup: pytest collected no tests: that is a failure, not a pass" >&2
    return 1
  fi
  return "$status"
}

walkthrough() {
  local out=artifacts/walkthrough
  xvfb-run -a -s "$SCREEN" "$VENV/bin/kiosk" run --demo --walkthrough "$out"
  echo "setup: screenshots of every screen are in $out/"
}

run_demo() {
  if has_display; then
    exec "$VENV/bin/kiosk" run --demo
  fi
  echo "setup: this machine has no display (DISPLAY is not set), so the kiosk cannot open a window."
  echo "setup: a headless run walks through every screen and saves a screenshot of each."
  if [ -t 0 ]; then
    local answer
    read -r -p "Run the headless walkthrough now? [Y/n] " answer
    case "${answer:-y}" in [Nn]*) return 0 ;; esac
    walkthrough
  else
    echo "setup: to run it: xvfb-run -a $VENV/bin/kiosk run --demo --walkthrough artifacts/walkthrough"
  fi
}

main() {
  case "${1:-}" in
    demo) install_all; run_demo ;;
    test) install_all; shift; run_tests "$@" ;;
    deps) install_all ;;
    *) echo "usage: $0 demo|test|deps" >&2; exit 2 ;;
  esac
}

main "$@"
