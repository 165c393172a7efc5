#!/usr/bin/env bash
# Installs what the kiosk needs and runs it. Idempotent: run it as often as you like.
#   ./setup.sh demo   install, then start the kiosk with simulated devices
#   ./setup.sh test   install, then run every test headless under Xvfb
#   ./setup.sh deps   install only (Debian packages, .venv, compiled translations)
# (these three put the development set, requirements-dev.txt, in .venv)
#   ./setup.sh central   the central server alone (requirements-central.txt) in .venv-central
#   ./setup.sh content   staff's e-book batch tool alone (requirements-content.txt) in .venv-content
# On a kiosk (a Pi or a PC with Debian 12; docs/install.md), as root or with sudo:
#   ./setup.sh wheels DIR        build every wheel the kiosk needs into DIR (for offline installs)
#   ./setup.sh install [--wheels DIR] [--data-partition auto|yes|no] [--read-only-root|--read-write-root]
#   ./setup.sh uninstall [--purge]
#   ./setup.sh system-test       install into a Debian 12 container and boot it (tests/system/),
#                                and check and tour the screens at the sizes the suite leaves out
# The central server on a Debian 12 machine (docs/central.md), as root or with sudo:
#   ./setup.sh wheels --central DIR   its wheels into DIR (for offline installs)
#   ./setup.sh install --central [--wheels DIR] [--postgresql]   user, /opt/kiosk-central, unit
#   ./setup.sh uninstall --central [--purge]
# Building the SD-card image (docs/image.md; as root; mmdebstrap under qemu-user, genimage):
#   ./setup.sh wheels --arch arm64 DIR   the Pi's (aarch64, Python 3.11) wheels into DIR
#   ./setup.sh image [OUT]               the root tree, then kiosk-<version>-arm64.img.xz (and
#                                        .sha256) in OUT (default build/image)
#   ./setup.sh image --from-tree [OUT]   only the disk, from OUT's root tree as it is
#   ./setup.sh image --rootfs-only OUT   only the root tree (and its tarball)
#   ./setup.sh image --check [OUT]       builds OUT if it has no image, boots it in QEMU
# Updates (image/update.sh):
#   ./setup.sh update-key [DIR]   the update CA and signing key (default ~/.config/library-kiosk/update-key)
#   ./setup.sh bundle [OUT]       the signed update bundle from OUT/root.ext4 (default build/image)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

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
  rauc squashfs-tools openssl            # update bundles made and checked (tests/test_update_bundle.py);
                                         # the central server reads a published bundle's version
  dbus                                   # a private dbus-daemon for RAUC's D-Bus policy test
  e2fsprogs fdisk                        # resize2fs and sfdisk: the data partition tests
  dosfstools mtools                      # FAT sticks and the image's boot partition in tests
  u-boot-tools libubootenv-tool genimage # the image's boot script, environment and disk layout
  espeak-ng vorbis-tools                 # the spoken prompts' build step (kiosk/sound/make_prompts.py);
                                         # the kiosk ships the files made, not the tools
)
# What an installed kiosk needs at run time (the wheels bring Kivy's SDL2 and the rest).
KIOSK_APT_PACKAGES=(
  python3 python3-venv                   # the app's virtualenv in /opt/kiosk
  libgl1 libgl1-mesa-dri libegl1 libgbm1 # OpenGL (Mesa), and GBM for SDL2's KMS/DRM window
  libmtdev1                              # touch input for Kivy
  fonts-noto-cjk fontconfig              # Chinese text
  systemd systemd-timesyncd udev dbus    # the units, NTP from the config, the device rules
  systemd-resolved                       # DNS from DHCP on the kiosk's Wi-Fi (systemd-networkd)
  wpasupplicant                          # wifi.toml on the boot folder
  openssh-server                         # the technician's keys from the boot folder
  e2fsprogs fdisk                        # fsck, resize2fs and sfdisk for the data partition
  iproute2                               # `ip`: kiosk doctor reads the network with it
  util-linux                             # setterm: no cursor, no blanking on the kiosk's screen
  libasound2                             # ALSA, which the wheel's SDL2 opens for tones and prompts
)
# What the central server needs: its virtualenv, msgfmt for its translations, and RAUC (with
# unsquashfs) to read a published bundle's version (central/bundles.py).
CENTRAL_APT_PACKAGES=(python3 python3-venv gettext rauc squashfs-tools)
# What staff's e-book batch tool needs: a Chinese font for drawn covers, found with fc-match.
CONTENT_APT_PACKAGES=(python3 python3-venv gettext fonts-noto-cjk fontconfig)
# What building the wheels needs (evdev compiles against the kernel's input.h).
WHEEL_APT_PACKAGES=(python3 python3-venv python3-dev gcc linux-libc-dev gettext)
# What the system test needs: a Debian tree, and systemd-nspawn to boot it.
SYSTEM_TEST_APT_PACKAGES=(mmdebstrap systemd-container)
# What building the Pi's wheels and root tree needs here: an arm64 Debian under qemu-user.
IMAGE_APT_PACKAGES=(mmdebstrap qemu-user-static binfmt-support arch-test python3-pip)
IMAGE_SUITE=bookworm
IMAGE_CACHE=${KIOSK_IMAGE_CACHE:-$HOME/.cache/kiosk-image}
# What making the disk needs here: ext4 and FAT file systems, U-Boot's script and environment
# tools, genimage, xz (image/build.sh).
IMAGE_BUILD_APT_PACKAGES=(e2fsprogs dosfstools mtools u-boot-tools genimage xz-utils file)
# What the QEMU check needs: an arm64 machine, its U-Boot, fw_printenv for the boot counter and
# an SSH client (tests/image/).
IMAGE_CHECK_APT_PACKAGES=(qemu-system-arm u-boot-qemu libubootenv-tool openssh-client mtools
                          fdisk ipxe-qemu)  # ipxe-qemu: the virtio network card's option ROM
# What evdev's pyproject.toml builds with (Debian 12's setuptools 66 is too old for it).
EVDEV_BUILD_REQUIRES=setuptools==80.9.0
# The pip tags of a Debian 12 arm64 (glibc 2.36) with CPython 3.11.
ARM64_PLATFORMS=(manylinux_2_36 manylinux_2_34 manylinux_2_31 manylinux_2_28 manylinux_2_27
                 manylinux_2_24 manylinux_2_17 manylinux2014)

# Where an installed kiosk lives (docs/install.md, I13 contract).
KIOSK_HOME=/opt/kiosk
KIOSK_VENV=$KIOSK_HOME/.venv
KIOSK_COMMAND=/usr/local/bin/kiosk     # the technician's `kiosk doctor`, on the PATH
KIOSK_ETC=/etc/kiosk
KIOSK_DATA=/var/lib/kiosk
# The KIOSKDATA partition's mount point (a plain folder on a PC): kiosk/ (bound at $KIOSK_DATA),
# ssh/ (the host keys), rauc/. kiosk data-layout makes the folders (kiosk/bootsetup/data_layout.py).
DATA_ROOT=/data
UNIT_DIR=/etc/systemd/system
KIOSK_UNITS=(kiosk.service kiosk-firstboot.service kiosk-out-of-service.service
             kiosk-wifi.service kiosk-console.service kiosk-upload.service kiosk-upload.timer
             kiosk-data-layout.service kiosk-ssh-host-keys.service kiosk-update-confirm.service
             kiosk-pull.service kiosk-pull.timer kiosk-media.socket kiosk-media.service)
# kiosk-update-confirm runs only where /etc/rauc/system.conf exists (the image); kiosk-pull and
# kiosk-media everywhere (e-book batches), their system-update steps only there.
ENABLED_UNITS=(kiosk.service kiosk-firstboot.service kiosk-wifi.service kiosk-console.service
               kiosk-upload.timer systemd-timesyncd.service kiosk-ssh-host-keys.service
               kiosk-update-confirm.service kiosk-pull.timer kiosk-media.socket)
# Masked while the kiosk is installed: the app owns tty1 (no login prompt on its screen), and
# Ctrl+Alt+Del on a keyboard plugged into the kiosk does not reboot it.
MASKED_UNITS=(getty@tty1.service ctrl-alt-del.target)
# systemd/<folder>/<file> goes to <target folder>/<file>.
DROP_INS=(
  "system.conf.d:/etc/systemd/system.conf.d"
  "journald.conf.d:/etc/systemd/journald.conf.d"
  "logind.conf.d:/etc/systemd/logind.conf.d"
  "sysctl.d:/etc/sysctl.d"
  "sshd_config.d:/etc/ssh/sshd_config.d"
  "sysusers.d:/etc/sysusers.d"
  "tmpfiles.d:/etc/tmpfiles.d"
)
UDEV_RULES=/etc/udev/rules.d/60-kiosk-devices.rules
FSTAB=/etc/fstab
# KIOSKDATA at /data, and its kiosk/ bound at /var/lib/kiosk once kiosk-data-layout.service
# made it. nofail: without the partition the kiosk still boots, shows out of service (its folder
# cannot be written) and sshd lets a technician in, instead of an emergency shell no one sees;
# nofail alone would also drop the order before local-fs.target, which the app and boot-setup
# wait for: x-systemd.before keeps it.
DATA_COMMENT="# kiosk: the KIOSKDATA partition at $DATA_ROOT, its kiosk/ at $KIOSK_DATA (./setup.sh install)"
DATA_LINE="LABEL=KIOSKDATA $DATA_ROOT ext4 defaults,noatime,nodev,nosuid,nofail,x-systemd.before=local-fs.target 0 2"
BIND_LINE="$DATA_ROOT/kiosk $KIOSK_DATA none bind,nofail,x-systemd.before=local-fs.target,x-systemd.requires=kiosk-data-layout.service 0 0"
RO_BEGIN="# kiosk read-only root: begin (./setup.sh install --read-write-root removes this block)"
RO_END="# kiosk read-only root: end"

# The SD-card image's bash (issue 14): the build, and the update parts once they exist.
source image/build.sh
[ ! -f image/update.sh ] || source image/update.sh

VENV=.venv
SCREEN="-screen 0 1280x800x24"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# make_venv [VENV REQUIREMENTS]: VENV (default .venv) with the pinned set REQUIREMENTS (default
# the development set: everything, so the tests run) and this project, editable.
make_venv() {
  local venv=${1:-$VENV} requirements=${2:-requirements-dev.txt}
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  local pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
  "${pip[@]}" -r requirements-build.txt -r "$requirements"
  "${pip[@]}" --no-deps --no-build-isolation --editable .
}

# requirement_pins FILE: the pins FILE installs, its own and those of the files it includes
# (`-r`, relative to FILE, as pip reads them), one `name==version` a line, each once.
requirement_pins() {
  _requirement_lines "$1" | awk '!seen[tolower($0)]++'
}

_requirement_lines() {
  local file=$1 line
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    case "$line" in
      "") ;;
      -r*) _requirement_lines "$(dirname "$file")/${line#-r}" ;;
      *) echo "$line" ;;
    esac
  done < "$file"
}

compile_translations() {
  local root=${1:-.} po
  for po in "$root"/kiosk/locale/*/LC_MESSAGES/*.po "$root"/central/locale/*/LC_MESSAGES/*.po; do
    msgfmt --check -o "${po%.po}.mo" "$po"
  done
}

install_all() {
  install_packages "${APT_PACKAGES[@]}"
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

# The panels kiosks ship with, landscape and portrait (tests/test_screen_sizes.py checks the same).
WALKTHROUGH_SIZES="800x480 1024x600 1280x800 1920x1080 720x1280 1080x1920"

walkthrough() {
  local out=artifacts/walkthrough size
  for size in $WALKTHROUGH_SIZES; do
    # A screen as large as the largest panel either way round.
    xvfb-run -a -s "-screen 0 1920x1920x24" "$VENV/bin/kiosk" run --demo --size "$size" \
      --walkthrough "$out/$size"
  done
  echo "setup: screenshots of every screen at each size are in $out/<size>/"
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
    echo "setup: to run it: xvfb-run -a $VENV/bin/kiosk run --demo --walkthrough artifacts/walkthrough [--size 720x1280]"
  fi
}

# --- Installing the kiosk on this machine ---------------------------------------------------

systemd_running() {
  [ -d /run/systemd/system ]
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: $1 changes the system: asking sudo for root"
    exec sudo "$0" "$@"
  fi
}

build_wheels() {
  local dir=$1 tmp
  install_packages "${WHEEL_APT_PACKAGES[@]}"
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  python3 -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" wheel --quiet --disable-pip-version-check --wheel-dir "$dir" \
    -r requirements-kiosk.txt
  rm -rf "$tmp"
  project_wheel "$dir"
  requirement_pins requirements-kiosk.txt > "$dir/requirements-kiosk.txt"
  check_wheel_folder "$dir"
  echo "setup: wheels for an offline install are in $dir"
}

# project_wheel DIR: the project's own wheel from a clean copy with freshly compiled
# translations: no stale build/ folder or catalogue slips in, and the checkout is left as it was
# (even read-only). Pure Python: the same wheel serves every architecture.
project_wheel() {
  local dir=$1 tmp
  tmp=$(mktemp -d)
  python3 -m venv "$tmp/venv"
  mkdir "$tmp/src"
  cp -r common kiosk drivers content central pyproject.toml README.md "$tmp/src/"
  find "$tmp/src" \( -name __pycache__ -o -name "*.mo" \) -prune -exec rm -rf {} +
  compile_translations "$tmp/src"
  "$tmp/venv/bin/pip" wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$dir" \
    "$tmp/src"
  rm -rf "$tmp"
}

install_venv() {
  local wheels=$1 requirements=requirements-kiosk.txt
  [ -f "$wheels/requirements-kiosk.txt" ] && requirements=$wheels/requirements-kiosk.txt
  mkdir -p "$KIOSK_HOME"
  [ -x "$KIOSK_VENV/bin/python" ] || python3 -m venv "$KIOSK_VENV"
  local pip=("$KIOSK_VENV/bin/python" -m pip install --quiet --disable-pip-version-check
             --no-index --find-links "$wheels")
  "${pip[@]}" -r "$requirements"
  # The same version number may carry new code: always put this wheel in.
  "${pip[@]}" --no-deps --force-reinstall library-kiosk
  echo "setup: the kiosk is in $KIOSK_VENV ($("$KIOSK_VENV/bin/python" -c \
    'import kiosk; print(kiosk.__version__)'))"
}

install_files() {
  local entry
  mkdir -p "$KIOSK_HOME/docs"
  cp -r docs/. README.md "$KIOSK_HOME/docs/"
  ln -sfn "$KIOSK_VENV/bin/kiosk" "$KIOSK_COMMAND"
  for entry in "${DROP_INS[@]}"; do
    mkdir -p "${entry#*:}"
    install -m 0644 systemd/"${entry%%:*}"/* "${entry#*:}/"
  done
  systemd-sysusers /etc/sysusers.d/kiosk.conf
  if [ ! -e "$KIOSK_ETC/kiosk.toml" ]; then
    install -d -m 0755 "$KIOSK_ETC"
    install -m 0644 systemd/kiosk.toml.example "$KIOSK_ETC/kiosk.toml"
    echo "setup: wrote $KIOSK_ETC/kiosk.toml from the example: set [kiosk] id and [ils] there"
  fi
  install -d -m 0700 -o kiosk -g kiosk "$KIOSK_DATA"
  install -d -m 0755 -o root -g root "$DATA_ROOT"
  systemd-tmpfiles --create /etc/tmpfiles.d/kiosk.conf
  install -m 0644 systemd/60-kiosk-devices.rules "$UDEV_RULES"
  for entry in "${KIOSK_UNITS[@]}"; do
    install -m 0644 "systemd/$entry" "$UNIT_DIR/$entry"
  done
}

# fstab_data_partition FILE: KIOSKDATA at /data and the bind of /data/kiosk, each line once; an
# older KIOSKDATA line (issue 13's, at /var/lib/kiosk) is replaced. Our lines stay where they are.
fstab_data_partition() {
  local file=$1 line
  fstab_without_data "$file" keep
  for line in "$DATA_COMMENT" "$DATA_LINE" "$BIND_LINE"; do
    grep -qxF -- "$line" "$file" 2>/dev/null || echo "$line" >> "$file"
  done
  echo "setup: $file mounts the KIOSKDATA partition at $DATA_ROOT and binds $DATA_ROOT/kiosk at $KIOSK_DATA"
}

# fstab_without_data FILE [keep|bind]: removes every KIOSKDATA and /data/kiosk line; `keep`
# keeps ours exactly as written, `bind` removes only the bind (uninstall: the units it needs go,
# the data stays reachable at /data).
fstab_without_data() {
  local file=$1 what=${2:-all}
  [ -f "$file" ] || return 0
  awk -v what="$what" -v c="$DATA_COMMENT" -v d="$DATA_LINE" -v b="$BIND_LINE" -v kiosk="$KIOSK_DATA" '
       what == "keep" && ($0 == c || $0 == d || $0 == b) { print; next }
       what == "bind" && ($0 == c || $1 == "LABEL=KIOSKDATA") { print; next }
       $0 == c || $1 == "LABEL=KIOSKDATA" { if ($2 == kiosk) old = 1; next }
       $2 == kiosk && $4 ~ /(^|,)bind(,|$)/ { next }
       { print }
       END { if (old && what == "keep") print "setup: replaced the KIOSKDATA line at " kiosk " (the layout before /data)" > "/dev/stderr" }' \
    "$file" > "$file.kiosk-new"
  if cmp -s "$file" "$file.kiosk-new"; then rm "$file.kiosk-new"; else mv "$file.kiosk-new" "$file"; fi
}

# setup_data MODE: /data's folders and fstab lines. MODE auto: the lines when a KIOSKDATA
# partition is found; yes: always (the image, whose partition is not there while it is built);
# no: none (/data and /var/lib/kiosk stay plain folders). The folders and host keys are made now
# when /data is where it stays; else at the next boot (kiosk-data-layout, kiosk-ssh-host-keys).
setup_data() {
  local mode=$1 partition=no
  case "$mode" in
    yes) partition=yes ;;
    auto) blkid -L KIOSKDATA > /dev/null 2>&1 && partition=yes ;;
  esac
  [ "$partition" = no ] || fstab_data_partition "$FSTAB"
  if [ "$partition" = no ] || mountpoint -q "$DATA_ROOT"; then
    "$KIOSK_VENV/bin/kiosk" data-layout
    # Copied, not moved yet: a running sshd reads /etc/ssh's until it is reloaded.
    "$KIOSK_VENV/bin/kiosk" host-keys --keep-etc
  else
    echo "setup: the KIOSKDATA partition is at $DATA_ROOT from the next boot; its folders are made then" \
      "(files left at its top by the layout before /data move into $DATA_ROOT/kiosk)"
  fi
}

# host_keys_back: before the drop-in naming /data/ssh goes, sshd's keys go back to /etc/ssh
# (the ones in use win: openssh-server's upgrades make unused ones there).
host_keys_back() {
  local key
  for key in "$DATA_ROOT"/ssh/ssh_host_*_key; do
    [ -s "$key" ] && [ -s "$key.pub" ] || continue
    install -m 0600 "$key" "/etc/ssh/$(basename "$key")"
    install -m 0644 "$key.pub" "/etc/ssh/$(basename "$key").pub"
  done
}

# fstab_read_only FILE: the root mounted "ro", and RAM for what Debian writes while it runs.
fstab_read_only() {
  local file=$1
  fstab_read_write "$file" quiet
  awk '$1 !~ /^#/ && $2 == "/" {
         n = split($4, o, ","); opts = "ro"
         for (i = 1; i <= n; i++) if (o[i] != "rw" && o[i] != "ro" && o[i] != "defaults") opts = opts "," o[i]
         $4 = opts; found = 1 }
       { print }
       END { if (!found) print "setup: no line for / in fstab: add \"ro\" to the kernel command line" > "/dev/stderr" }' \
    "$file" > "$file.kiosk-new"
  {
    echo "$RO_BEGIN"
    # Only folders that exist here: a mount point missing on a read-only root stops the boot.
    local line
    while read -r line; do
      case "$line" in
        \#*|"") echo "$line" ;;
        *) [ -d "$(echo "$line" | awk '{print $2}')" ] && echo "$line" ;;
      esac
    done < systemd/fstab.read-only
    echo "$RO_END"
  } >> "$file.kiosk-new"
  mv "$file.kiosk-new" "$file"
  echo "setup: $file mounts / read-only from the next boot (docs/install.md: maintenance)"
}

# fstab_read_write FILE [quiet]: undoes fstab_read_only.
fstab_read_write() {
  local file=$1
  [ -f "$file" ] || return 0
  awk -v begin="$RO_BEGIN" -v end="$RO_END" '
       $0 == begin { skip = 1; next }
       $0 == end { skip = 0; next }
       skip { next }
       $1 !~ /^#/ && $2 == "/" { n = split($4, o, ","); opts = ""
         for (i = 1; i <= n; i++) if (o[i] != "ro") opts = opts (opts ? "," : "") o[i]
         $4 = opts ? opts : "defaults" }
       { print }' "$file" > "$file.kiosk-new"
  if ! cmp -s "$file" "$file.kiosk-new"; then
    mv "$file.kiosk-new" "$file"
    [ "${2:-}" = quiet ] || echo "setup: $file mounts / read-write from the next boot"
  else
    rm "$file.kiosk-new"
  fi
}

enable_units() {
  local offline=()
  systemd_running || offline=(env SYSTEMD_OFFLINE=1)
  "${offline[@]}" systemctl enable --quiet "${ENABLED_UNITS[@]}"
  "${offline[@]}" systemctl mask --quiet "${MASKED_UNITS[@]}"
}

# reload_running_system: systemd, sshd, udev and the app take the new files. Returns 1 when
# sshd could not be reloaded (it still reads its old host keys then).
reload_running_system() {
  systemd_running || return 0
  local sshd=0
  systemctl daemon-reload
  reload_sshd || sshd=1
  udevadm control --reload 2>/dev/null && udevadm trigger --subsystem-match=input \
    --subsystem-match=tty 2>/dev/null || true
  # An upgrade in place: the running app is restarted on the new code; a stopped one stays so.
  systemctl try-restart kiosk.service
  return "$sshd"
}

# reload_sshd: a running sshd reads its configuration (and host keys) again, when it is valid.
reload_sshd() {
  systemd_running && [ -x /usr/sbin/sshd ] || return 0
  if ! ls "$DATA_ROOT"/ssh/ssh_host_*_key > /dev/null 2>&1 && [ -f /etc/ssh/sshd_config.d/60-kiosk.conf ]; then
    echo "setup: sshd reads its host keys from $DATA_ROOT/ssh from the next boot"
    return 1
  fi
  if /usr/sbin/sshd -t; then
    systemctl try-reload-or-restart ssh.service
  else
    echo "setup: sshd's configuration has an error (see above): fix it before the next boot" >&2
    return 1
  fi
}

# Runs INSTALL (a venv step) on the WHEELS folder, or on one BUILD fills first and that goes
# afterwards: an install from the package index is an install from wheels made for it.
venv_from_wheels() {
  local build=$1 install=$2 wheels=$3 tmp=""
  if [ -z "$wheels" ]; then
    tmp=$(mktemp -d)
    "$build" "$tmp"
    wheels=$tmp
  fi
  "$install" "$wheels"
  [ -z "$tmp" ] || rm -rf "$tmp"
}

install_kiosk() {
  local wheels="" data_partition=auto root_mode=keep
  while [ $# -gt 0 ]; do
    case "$1" in
      --wheels) wheels=$(realpath "${2:?--wheels needs a folder}"); shift 2 ;;
      --data-partition) data_partition=${2:?--data-partition needs auto, yes or no}; shift 2 ;;
      --read-only-root) root_mode=ro; shift ;;
      --read-write-root) root_mode=rw; shift ;;
      *) usage ;;
    esac
  done
  case "$data_partition" in auto|yes|no) ;; *) usage ;; esac
  install_packages "${KIOSK_APT_PACKAGES[@]}"
  venv_from_wheels build_wheels install_venv "$wheels"
  install_files
  setup_data "$data_partition"
  case "$root_mode" in
    ro) fstab_read_only "$FSTAB" ;;
    rw) fstab_read_write "$FSTAB" ;;
  esac
  enable_units
  # The host keys' originals in /etc/ssh go once sshd reads the copies (or runs not at all).
  if reload_running_system && ls "$DATA_ROOT"/ssh/ssh_host_*_key > /dev/null 2>&1; then
    "$KIOSK_VENV/bin/kiosk" host-keys > /dev/null
  fi
  echo "setup: installed. Reboot to start the kiosk with its watchdog, journal and console settings."
}

uninstall_kiosk() {
  local purge=no entry file
  case "${1:-}" in
    --purge) purge=yes ;;
    "") ;;
    *) usage ;;
  esac
  if systemd_running; then
    systemctl disable --now --quiet "${KIOSK_UNITS[@]}" 2>/dev/null || true
  else
    SYSTEMD_OFFLINE=1 systemctl disable --quiet "${KIOSK_UNITS[@]}" 2>/dev/null || true
  fi
  SYSTEMD_OFFLINE=1 systemctl unmask --quiet "${MASKED_UNITS[@]}" 2>/dev/null || true
  for entry in "${KIOSK_UNITS[@]}"; do rm -f "$UNIT_DIR/$entry"; done
  host_keys_back
  for entry in "${DROP_INS[@]}"; do
    for file in systemd/"${entry%%:*}"/*; do rm -f "${entry#*:}/$(basename "$file")"; done
  done
  reload_sshd || true
  # The bind needs kiosk-data-layout.service, gone now; the partition stays at /data.
  fstab_without_data "$FSTAB" bind
  rm -f "$UDEV_RULES"
  [ -L "$KIOSK_COMMAND" ] && rm -f "$KIOSK_COMMAND"
  rm -rf "$KIOSK_HOME"
  fstab_read_write "$FSTAB"
  if [ "$purge" = yes ]; then
    rm -rf "$KIOSK_ETC"
    if [ -d "$KIOSK_DATA" ]; then
      find "$KIOSK_DATA" -mindepth 1 -delete
      if mountpoint -q "$KIOSK_DATA"; then umount "$KIOSK_DATA" || true; fi
      mountpoint -q "$KIOSK_DATA" || rmdir "$KIOSK_DATA"
    fi
    rm -rf "$DATA_ROOT/kiosk" "$DATA_ROOT/ssh" "$DATA_ROOT/rauc"
    mountpoint -q "$DATA_ROOT" || rmdir "$DATA_ROOT" 2>/dev/null || true
    fstab_without_data "$FSTAB"
    id kiosk > /dev/null 2>&1 && userdel kiosk
    echo "setup: removed the kiosk, its configuration, its data and its user"
  else
    echo "setup: removed the kiosk; kept $KIOSK_ETC, $KIOSK_DATA and $DATA_ROOT (--purge removes them too)"
  fi
  if systemd_running; then systemctl daemon-reload; fi
}

# --- Installing the central server on this machine (docs/central.md: Installing it) ----------

CENTRAL_HOME=/opt/kiosk-central
CENTRAL_VENV=$CENTRAL_HOME/.venv
CENTRAL_COMMAND=/usr/local/bin/kiosk-central   # the administrator's commands, on the PATH
CENTRAL_CONFIG=$KIOSK_ETC/central.toml
CENTRAL_DATA=/var/lib/kiosk-central
CENTRAL_USER=kiosk-central
CENTRAL_UNIT=kiosk-central.service
CENTRAL_SYSUSERS=/etc/sysusers.d/kiosk-central.conf
# What an installed server needs at run time: its virtualenv, and RAUC (with unsquashfs) to read
# a published bundle's version (central/bundles.py). The wheels bring the rest, psycopg's libpq too.
CENTRAL_SERVER_APT_PACKAGES=(python3 python3-venv rauc squashfs-tools)
# --postgresql: Debian's PostgreSQL on this machine; the server's role is named as its system
# user, so it signs in over the local socket by peer authentication and no password is stored.
CENTRAL_PG_DATABASE=kiosk_central
CENTRAL_PG_URL="postgresql://$CENTRAL_USER@/$CENTRAL_PG_DATABASE?host=/run/postgresql"

# wants_central ARGS...: whether `install`/`uninstall` is for the central server.
wants_central() {
  local arg
  for arg in "$@"; do [ "$arg" = --central ] && return 0; done
  return 1
}

# build_central_wheels DIR: the server's pinned set and the project's wheel in DIR, with the pin
# list beside them (an offline install takes exactly these).
build_central_wheels() {
  local dir=$1 tmp
  install_packages python3 python3-venv gettext
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  python3 -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" wheel --quiet --disable-pip-version-check --wheel-dir "$dir" \
    -r requirements-central.txt
  rm -rf "$tmp"
  project_wheel "$dir"
  requirement_pins requirements-central.txt > "$dir/requirements-central.txt"
  check_wheel_folder "$dir" requirements-central.txt
  echo "setup: wheels for an offline central install are in $dir"
}

install_central_venv() {
  local wheels=$1 requirements=requirements-central.txt
  [ -f "$wheels/requirements-central.txt" ] && requirements=$wheels/requirements-central.txt
  install -d -m 0755 "$CENTRAL_HOME"
  [ -x "$CENTRAL_VENV/bin/python" ] || python3 -m venv "$CENTRAL_VENV"
  local pip=("$CENTRAL_VENV/bin/python" -m pip install --quiet --disable-pip-version-check
             --no-index --find-links "$wheels")
  "${pip[@]}" -r "$requirements"
  "${pip[@]}" --no-deps --force-reinstall library-kiosk  # same version, maybe new code
  echo "setup: the central server is in $CENTRAL_VENV ($("$CENTRAL_VENV/bin/python" -c \
    'import central; print(central.__version__)'))"
}

# install_central_files: the user, the command, the config (made once, never overwritten; its
# owner and mode set each time: root writes it, the server reads it), the data folder, the unit.
install_central_files() {
  install -D -m 0644 systemd/kiosk-central.sysusers "$CENTRAL_SYSUSERS"
  systemd-sysusers "$CENTRAL_SYSUSERS"
  install -d -m 0755 "$CENTRAL_HOME/docs"
  cp -r docs/. README.md "$CENTRAL_HOME/docs/"
  ln -sfn "$CENTRAL_VENV/bin/kiosk-central" "$CENTRAL_COMMAND"
  install -d -m 0755 "$KIOSK_ETC"
  if [ ! -e "$CENTRAL_CONFIG" ]; then
    install -m 0640 -o root -g "$CENTRAL_USER" central/central.toml.example "$CENTRAL_CONFIG"
    echo "setup: wrote $CENTRAL_CONFIG from the example"
  fi
  chown "root:$CENTRAL_USER" "$CENTRAL_CONFIG"
  chmod 0640 "$CENTRAL_CONFIG"
  install -d -m 0700 -o "$CENTRAL_USER" -g "$CENTRAL_USER" "$CENTRAL_DATA"
  install -m 0644 "systemd/$CENTRAL_UNIT" "$UNIT_DIR/$CENTRAL_UNIT"
}

# central_config_db: the config's `db` as written ("" when it is the example's empty one).
central_config_db() {
  sed -n 's/^[[:space:]]*db[[:space:]]*=[[:space:]]*"\(.*\)"[[:space:]]*$/\1/p' "$CENTRAL_CONFIG" | tail -n 1
}

as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

# central_postgresql: PostgreSQL here, the server's role and database (each made once), and their
# URL in the config when its db is still empty. A server that ran on SQLite already has its rows
# copied over first (kiosk-central db copy), with the service stopped; the SQLite file is kept.
central_postgresql() {
  local current sqlite=$CENTRAL_DATA/central.sqlite3
  install_packages postgresql
  if ! systemd_running; then
    echo "setup: --postgresql starts PostgreSQL to make the database: run it on the running system" >&2
    return 1
  fi
  systemctl enable --now --quiet postgresql.service
  local tries=0
  until as_postgres pg_isready -q; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "setup: PostgreSQL did not start (journalctl -u postgresql@*)" >&2; return 1; }
    sleep 1
  done
  [ "$(as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$CENTRAL_USER'")" = 1 ] \
    || as_postgres createuser "$CENTRAL_USER"
  [ "$(as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname = '$CENTRAL_PG_DATABASE'")" = 1 ] \
    || as_postgres createdb -O "$CENTRAL_USER" -E UTF8 "$CENTRAL_PG_DATABASE"
  current=$(central_config_db)
  if [ "$current" = "$CENTRAL_PG_URL" ]; then
    return 0
  elif [ -n "$current" ]; then
    echo "setup: $CENTRAL_CONFIG has db = \"$current\": left as it is. PostgreSQL's is $CENTRAL_PG_URL"
    return 0
  fi
  if [ -s "$sqlite" ]; then
    echo "setup: copying the server's SQLite database into PostgreSQL (the service is stopped meanwhile)"
    systemctl stop "$CENTRAL_UNIT" 2>/dev/null || true
    if ! (cd / && runuser -u "$CENTRAL_USER" -- "$CENTRAL_VENV/bin/kiosk-central" db copy \
            --from "sqlite:///$sqlite" --to "$CENTRAL_PG_URL"); then
      systemctl start "$CENTRAL_UNIT" || true  # back on SQLite, as it was
      echo "setup: the copy into PostgreSQL failed (above); the server runs on SQLite as before" >&2
      return 1
    fi
  fi
  sed -i "s|^\([[:space:]]*db[[:space:]]*=[[:space:]]*\)\"\"|\1\"$CENTRAL_PG_URL\"|" "$CENTRAL_CONFIG"
  echo "setup: $CENTRAL_CONFIG: db = \"$CENTRAL_PG_URL\""
}

# start_central: enabled at boot, and (re)started now on the new code and config.
start_central() {
  if systemd_running; then
    systemctl daemon-reload
    systemctl enable --quiet "$CENTRAL_UNIT"
    systemctl restart "$CENTRAL_UNIT"
  else
    SYSTEMD_OFFLINE=1 systemctl enable --quiet "$CENTRAL_UNIT"
  fi
}

install_central() {
  local wheels="" postgresql=no
  while [ $# -gt 0 ]; do
    case "$1" in
      --central) shift ;;
      --wheels) wheels=$(realpath "${2:?--wheels needs a folder}"); shift 2 ;;
      --postgresql) postgresql=yes; shift ;;
      *) usage ;;
    esac
  done
  install_packages "${CENTRAL_SERVER_APT_PACKAGES[@]}"
  venv_from_wheels build_central_wheels install_central_venv "$wheels"
  install_central_files
  [ "$postgresql" = no ] || central_postgresql
  start_central
  echo "setup: the central server runs as $CENTRAL_UNIT on 127.0.0.1 (config: $CENTRAL_CONFIG)." \
    "Put a TLS proxy in front (docs/central.md), then: kiosk-central user add NAME --role admin --library NAME"
}

uninstall_central() {
  local purge=no arg
  for arg in "$@"; do
    case "$arg" in
      --central) ;;
      --purge) purge=yes ;;
      *) usage ;;
    esac
  done
  if systemd_running; then
    systemctl disable --now --quiet "$CENTRAL_UNIT" 2>/dev/null || true
  else
    SYSTEMD_OFFLINE=1 systemctl disable --quiet "$CENTRAL_UNIT" 2>/dev/null || true
  fi
  rm -f "$UNIT_DIR/$CENTRAL_UNIT"
  [ -L "$CENTRAL_COMMAND" ] && rm -f "$CENTRAL_COMMAND"
  rm -rf "$CENTRAL_HOME"
  if [ "$purge" = yes ]; then
    rm -rf "$CENTRAL_CONFIG" "$CENTRAL_DATA" "$CENTRAL_SYSUSERS"
    id "$CENTRAL_USER" > /dev/null 2>&1 && userdel "$CENTRAL_USER"
    echo "setup: removed the central server, its configuration, its data and its user" \
      "(a PostgreSQL database stays: dropdb $CENTRAL_PG_DATABASE as postgres removes it)"
  else
    echo "setup: removed the central server; kept $CENTRAL_CONFIG and $CENTRAL_DATA (--purge removes them too)"
  fi
  if systemd_running; then systemctl daemon-reload; fi
}

# check_wheel_folder DIR [REQUIREMENTS]: every pin of the kiosk's set (requirements-kiosk.txt,
# or REQUIREMENTS, and the files it includes) has its wheel in DIR (wheel names spell projects in
# lower or mixed case with "_" for "-" and "."), else names the missing ones.
check_wheel_folder() {
  local dir=$1 requirements=${2:-requirements-kiosk.txt} line name version missing=() have
  have=$(ls "$dir" | tr '[:upper:]' '[:lower:]')
  while IFS= read -r line; do
    name=$(echo "${line%%==*}" | tr '[:upper:]' '[:lower:]' | tr -- '-.' '__')
    version=${line#*==}
    grep -qF -- "$name-$version-" <<< "$have" || missing+=("$line")
  done < <(requirement_pins "$requirements")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: $dir has no wheel for ${missing[*]}: build the folder again" >&2
    return 1
  fi
}

usage() {
  sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

main() {
  case "${1:-}" in
    demo) install_all; run_demo ;;
    # Both cores (pytest-xdist), a test file per worker, each worker with its own X server.
    test) install_all; shift; run_tests -n 2 --dist loadfile "$@" ;;
    deps) install_all ;;
    central)
      install_packages "${CENTRAL_APT_PACKAGES[@]}"
      make_venv .venv-central requirements-central.txt
      compile_translations
      echo "setup: the central server is in .venv-central: .venv-central/bin/kiosk-central serve" ;;
    content)
      install_packages "${CONTENT_APT_PACKAGES[@]}"
      make_venv .venv-content requirements-content.txt
      compile_translations
      echo "setup: staff's e-book tool is in .venv-content: .venv-content/bin/kiosk content --help" ;;
    wheels)
      if [ "${2:-}" = --central ]; then
        [ -n "${3:-}" ] || usage; build_central_wheels "$(realpath -m "$3")"
      elif [ "${2:-}" = --arch ]; then
        [ "${3:-}" = arm64 ] && [ -n "${4:-}" ] || usage
        need_root "$@"; build_arm64_wheels "$(realpath -m "$4")"
      else
        [ -n "${2:-}" ] || usage; build_wheels "$(realpath -m "$2")"
      fi ;;
    image) need_root "$@"; shift; image_command "$@" ;;
    update-key) update_key "$(realpath -m "${2:-$UPDATE_KEY_DEFAULT}")" ;;
    bundle) need_root "$@"; build_bundle "$(realpath -m "${2:-build/image}")" ;;
    install)
      need_root "$@"; shift
      if wants_central "$@"; then install_central "$@"; else install_kiosk "$@"; fi ;;
    uninstall)
      need_root "$@"; shift
      if wants_central "$@"; then uninstall_central "$@"; else uninstall_kiosk "$@"; fi ;;
    system-test)
      need_root "$@"; shift
      install_all
      install_packages "${SYSTEM_TEST_APT_PACKAGES[@]}"
      run_tests -m system tests/system tests/test_walkthrough.py tests/test_screen_sizes.py \
        tests/test_attract_screen.py tests/test_admin_usb.py tests/test_admin_usb_batches.py "$@" ;;
    -h|--help|help) usage 0 ;;
    *) usage ;;
  esac
}

# Sourced by tests (tests/test_units.py) for its functions; run as a command otherwise.
# (`exit` at once: bash reads a script as it runs, so an edit during a long build cannot run.)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"; exit
fi
