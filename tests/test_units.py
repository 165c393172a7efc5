"""The installed system's pieces, checked fast: every unit in systemd/ through
`systemd-analyze verify` (in a temporary root holding systemd's own units and stand-ins for the
programs the units start), setup.sh's syntax, usage and fstab editing (its functions sourced),
and the project's wheel holding every data file the kiosk reads at run time.

The slow proof, a Debian 12 container booted with the kiosk in it, is tests/system/."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

SYSTEMD = ROOT / "systemd"
UNITS = sorted(p.name for p in SYSTEMD.iterdir() if p.suffix in (".service", ".timer", ".socket"))
# Every program a unit starts, and what puts it there on a kiosk. A unit naming any other
# path (a typo, a program no package installs) fails test_every_program_a_unit_starts_is_installed.
PROGRAMS = {
    "/opt/kiosk/.venv/bin/kiosk": "setup.sh install",
    "/opt/kiosk/.venv/bin/python": "setup.sh install",
    "/opt/kiosk-central/.venv/bin/kiosk-central": "setup.sh install",  # --central
    "/usr/sbin/wpa_supplicant": "wpasupplicant",
    "/usr/bin/setterm": "util-linux",
}


def exec_programs(text: str) -> set[str]:
    return {shlex.split(m.group(1))[0].lstrip("-@:+!")
            for m in re.finditer(r"^Exec\w+=(.+)$", text, re.MULTILINE)}


def apt_packages(array: str) -> set[str]:
    """The packages in one of setup.sh's bash arrays, comments dropped."""
    text = (ROOT / "setup.sh").read_text(encoding="utf-8")
    body = re.search(rf"^{array}=\((.*?)^\)", text, re.MULTILINE | re.DOTALL)
    assert body, f"setup.sh has no {array}"
    return {word for line in body.group(1).splitlines()
            for word in line.split("#")[0].split()}


def source_setup(script: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Runs `script` in bash after sourcing setup.sh (which then runs nothing by itself)."""
    return subprocess.run(["bash", "-c", f'source "{ROOT}/setup.sh" && {script}'],
                          cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def unit_root(tmp_path_factory) -> Path:
    if not shutil.which("systemd-analyze"):
        pytest.skip("needs systemd-analyze (Debian's systemd package)")
    host_units = Path("/usr/lib/systemd/system")
    if not host_units.is_dir():
        pytest.skip("needs systemd's own units in /usr/lib/systemd/system")
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(host_units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in UNITS:
        shutil.copy(SYSTEMD / name, root / "etc/systemd/system" / name)
    for program in PROGRAMS:
        stand_in = root / program.lstrip("/")
        stand_in.parent.mkdir(parents=True, exist_ok=True)
        stand_in.write_text("#!/bin/sh\n")
        stand_in.chmod(0o755)
    return root


def verify(root: Path, *units: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", *units],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify_finds_nothing_to_say(unit_root, name):
    result = verify(unit_root, name)
    assert result.returncode == 0 and not result.stderr.strip() and not result.stdout.strip(), (
        result.stdout + result.stderr)


def test_verify_does_catch_a_misspelt_key_and_a_missing_program(unit_root, tmp_path):
    """The test above can fail: systemd-analyze speaks up in this root for both faults."""
    broken = unit_root / "etc/systemd/system/kiosk-broken.service"
    broken.write_text((SYSTEMD / "kiosk.service").read_text().replace(
        "WatchdogSec=30", "WatchdogSecs=30").replace(
        "/opt/kiosk/.venv/bin/kiosk run", "/opt/kiosk/.venv/bin/kiosk-missing run"))
    try:
        result = verify(unit_root, "kiosk-broken.service")
    finally:
        broken.unlink()
    assert "Unknown key 'WatchdogSecs'" in result.stderr
    assert "kiosk-missing is not executable" in result.stderr


def test_every_program_a_unit_starts_is_installed():
    runtime = apt_packages("KIOSK_APT_PACKAGES")
    for name in UNITS:
        for program in exec_programs((SYSTEMD / name).read_text(encoding="utf-8")):
            assert program in PROGRAMS, f"{name} starts {program}: what installs it?"
            source = PROGRAMS[program]
            assert source == "setup.sh install" or source in runtime, (
                f"{name} needs {source}, missing from KIOSK_APT_PACKAGES in setup.sh")


def test_setup_installs_every_unit_and_drop_in_folder_it_ships():
    listed = source_setup('printf "%s\\n" "${KIOSK_UNITS[@]}" "$CENTRAL_UNIT"; echo ---; '
                          'printf "%s\\n" "${DROP_INS[@]}"')
    units, drop_ins = listed.stdout.split("---\n")
    assert sorted(units.split()) == UNITS
    shipped = sorted(p.name for p in SYSTEMD.iterdir() if p.is_dir())
    assert sorted(line.split(":")[0] for line in drop_ins.split()) == shipped


def test_the_service_is_notify_with_a_watchdog_and_ends_out_of_service():
    text = (SYSTEMD / "kiosk.service").read_text(encoding="utf-8")
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=30", "Restart=always",
                 "StartLimitBurst=5", "OnFailure=kiosk-out-of-service.service", "User=kiosk",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/kiosk", "NoNewPrivileges=yes",
                 "PrivateTmp=yes", "Environment=SDL_VIDEODRIVER=kmsdrm"):
        assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), line
    # Devices stay reachable and the download server stays on the library network.
    for forbidden in ("PrivateDevices=yes", "PrivateNetwork=yes", "IPAddressDeny", "PrivateUsers"):
        assert forbidden not in text
    out_of_service = (SYSTEMD / "kiosk-out-of-service.service").read_text(encoding="utf-8")
    assert "Conflicts=kiosk.service" in out_of_service
    assert "bin/kiosk out-of-service" in out_of_service


def test_setup_sh_parses_and_prints_its_usage():
    assert subprocess.run(["bash", "-n", str(ROOT / "setup.sh")], check=False).returncode == 0
    shown = subprocess.run([str(ROOT / "setup.sh"), "--help"], capture_output=True, text=True,
                           timeout=30, check=False)
    assert shown.returncode == 0
    for command in ("install", "uninstall", "wheels", "system-test", "--read-only-root"):
        assert command in shown.stderr
    wrong = subprocess.run([str(ROOT / "setup.sh"), "no-such-command"], capture_output=True,
                           text=True, timeout=30, check=False)
    assert wrong.returncode == 2 and "./setup.sh install" in wrong.stderr


PI_FSTAB = """\
proc            /proc           proc    defaults          0       0
PARTUUID=4e639091-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=4e639091-02  /               ext4    defaults,noatime  0       1
"""


def test_read_only_root_and_back_again_in_fstab(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text(PI_FSTAB)
    done = source_setup(f'fstab_read_only "{fstab}" && fstab_read_only "{fstab}"')
    assert done.returncode == 0, done.stderr
    lines = fstab.read_text().splitlines()
    root = [line.split() for line in lines if line.split()[1:2] == ["/"]]
    assert root == [["PARTUUID=4e639091-02", "/", "ext4", "ro,noatime", "0", "1"]]
    mounts = [line.split()[1] for line in lines if line.startswith("tmpfs")]
    assert mounts.count("/var/log") == 1 and "/tmp" in mounts and "/var/lib/systemd" in mounts
    # Only folders this machine has: a missing mount point would stop a read-only boot.
    assert all(os.path.isdir(m) for m in mounts)
    back = source_setup(f'fstab_read_write "{fstab}"')
    assert back.returncode == 0, back.stderr
    assert fstab.read_text() == PI_FSTAB.replace("defaults,noatime", "noatime").replace(
        "PARTUUID=4e639091-02  /               ext4    noatime  0       1",
        "PARTUUID=4e639091-02 / ext4 noatime 0 1")


OLD_DATA_LINE = "LABEL=KIOSKDATA /var/lib/kiosk ext4 defaults,noatime,nodev,nosuid 0 2"


def data_lines() -> list[str]:
    listed = source_setup('printf "%s\\n" "$DATA_COMMENT" "$DATA_LINE" "$BIND_LINE"')
    return listed.stdout.splitlines()


def test_the_data_partition_lines_replace_the_old_one_once(tmp_path):
    """Issue 13's KIOSKDATA line at /var/lib/kiosk goes; the partition at /data and the bind of
    its kiosk/ come in, once, however often install runs (with the read-only block too)."""
    fstab = tmp_path / "fstab"
    fstab.write_text(PI_FSTAB + OLD_DATA_LINE + "\n")
    first = source_setup(f'fstab_data_partition "{fstab}" && fstab_read_only "{fstab}"')
    assert first.returncode == 0, first.stderr
    assert "replaced the KIOSKDATA line at /var/lib/kiosk" in first.stderr
    once = fstab.read_text()
    again = source_setup(f'fstab_data_partition "{fstab}" && fstab_read_only "{fstab}" && '
                         f'fstab_data_partition "{fstab}"')
    assert again.returncode == 0, again.stderr
    assert fstab.read_text() == once
    lines = once.splitlines()
    assert OLD_DATA_LINE not in lines and lines[:3] == PI_FSTAB.splitlines()[:2] + [
        "PARTUUID=4e639091-02 / ext4 ro,noatime 0 1"]
    ours = data_lines()
    assert [line for line in lines if line in ours] == ours
    assert [line for line in lines if line.startswith(("LABEL=KIOSKDATA", "/data/"))] == ours[1:]
    (data,) = [line.split() for line in lines if line.startswith("LABEL=KIOSKDATA")]
    assert data[1:3] == ["/data", "ext4"] and "nofail" in data[3].split(",")
    (bind,) = [line.split() for line in lines if line.startswith("/data/kiosk")]
    assert bind[:3] == ["/data/kiosk", "/var/lib/kiosk", "none"]


def test_uninstall_drops_the_bind_and_purge_every_data_line(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text(PI_FSTAB)
    assert source_setup(f'fstab_data_partition "{fstab}"').returncode == 0
    kept = source_setup(f'fstab_without_data "{fstab}" bind')
    assert kept.returncode == 0, kept.stderr
    assert fstab.read_text() == PI_FSTAB + "\n".join(data_lines()[:2]) + "\n"
    assert source_setup(f'fstab_without_data "{fstab}"').returncode == 0
    assert fstab.read_text() == PI_FSTAB


def test_systemd_orders_the_data_layout_between_the_partition_and_the_bind(tmp_path, unit_root):
    """systemd's own fstab generator reads our lines: /data and the bind both before
    local-fs.target (nofail alone would drop that order, and the app would start on the root's
    empty folder), the bind after kiosk-data-layout.service, which needs /data; no cycle."""
    generator = Path("/usr/lib/systemd/system-generators/systemd-fstab-generator")
    if not generator.exists():
        pytest.skip("needs systemd-fstab-generator (Debian's systemd package)")
    fstab, out = tmp_path / "fstab", tmp_path / "generator"
    fstab.write_text(PI_FSTAB)
    assert source_setup(f'fstab_data_partition "{fstab}"').returncode == 0
    out.mkdir()
    subprocess.run([str(generator), str(out), str(out), str(out)], check=True,
                   env=dict(os.environ, SYSTEMD_FSTAB=str(fstab)))
    data, bind = (out / "data.mount").read_text(), (out / "var-lib-kiosk.mount").read_text()
    assert "What=/dev/disk/by-label/KIOSKDATA" in data and "Before=local-fs.target" in data
    for line in ("What=/data/kiosk", "Before=local-fs.target",
                 "Requires=kiosk-data-layout.service", "After=kiosk-data-layout.service"):
        assert line in bind, bind
    layout = (SYSTEMD / "kiosk-data-layout.service").read_text()
    assert "RequiresMountsFor=/data " in layout and "DefaultDependencies=no" in layout
    units = unit_root / "etc/systemd/system"
    for name in ("data.mount", "var-lib-kiosk.mount"):
        (units / name).write_text((out / name).read_text())
    try:
        result = verify(unit_root, "var-lib-kiosk.mount", "kiosk-data-layout.service")
    finally:
        for name in ("data.mount", "var-lib-kiosk.mount"):
            (units / name).unlink()
    assert result.returncode == 0 and "cycle" not in result.stderr.lower(), result.stderr


def test_sshd_reads_the_host_keys_from_the_data_partition():
    text = (SYSTEMD / "sshd_config.d/60-kiosk.conf").read_text()
    keys = re.findall(r"^HostKey (\S+)$", text, re.MULTILINE)
    # Only the keys every kiosk has: sshd logs an error for each missing one at every start.
    assert keys == ["/data/ssh/ssh_host_ed25519_key", "/data/ssh/ssh_host_rsa_key"]
    assert "\nInclude /run/kiosk-ssh/*.conf\n" in text
    unit = (SYSTEMD / "kiosk-ssh-host-keys.service").read_text()
    assert "Before=ssh.service" in unit and "WantedBy=ssh.service" in unit


def test_the_wheel_holds_every_file_the_kiosk_reads_at_run_time(tmp_path):
    """Translations (.mo), kv layouts, demo data and simulator scenarios, not only the .py."""
    if not list((ROOT / "kiosk/locale").glob("*/LC_MESSAGES/*.mo")):
        pytest.skip("translations not compiled: run ./setup.sh deps")
    source = tmp_path / "src"
    source.mkdir()
    for part in ("common", "kiosk", "drivers", "content", "central", "pyproject.toml",
                 "README.md"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, source / part)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--no-build-isolation", "--wheel-dir", str(tmp_path / "wheels"),
                            str(source)], capture_output=True, text=True, timeout=300,
                           check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheels").glob("library_kiosk-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    needed = {str(p.relative_to(ROOT)) for part in ("common", "kiosk", "drivers", "content",
                                                    "central")
              for p in (ROOT / part).rglob("*")
              if p.is_file() and p.suffix not in (".py", ".pyc", ".po")
              and "__pycache__" not in p.parts}
    assert needed and not needed - in_wheel, sorted(needed - in_wheel)
    assert "common/__init__.py" in in_wheel  # the base every deployable imports


def pins() -> list[str]:
    """The kiosk's pins, with those of the files requirements-kiosk.txt includes."""
    return source_setup("requirement_pins requirements-kiosk.txt").stdout.split()


def test_the_usage_names_the_image_commands():
    shown = subprocess.run([str(ROOT / "setup.sh"), "--help"], capture_output=True, text=True,
                           timeout=30, check=False)
    for command in ("wheels --arch arm64 DIR", "image [OUT]", "image --from-tree [OUT]",
                    "image --rootfs-only OUT", "image --check [OUT]"):
        assert command in shown.stderr, command
    for wrong_args in (["image", "--no-such-option"], ["image", "a", "b"]):
        wrong = subprocess.run([str(ROOT / "setup.sh"), *wrong_args], capture_output=True,
                               text=True, timeout=30, check=False)
        assert wrong.returncode == 2 and "image --check" in wrong.stderr, wrong_args


@pytest.mark.parametrize("args, built", [
    ("", "full build/image"), ("/tmp/out", "full /tmp/out"), ("--from-tree", "image build/image"),
])
def test_the_image_command_reads_its_arguments_without_tripping_on_none(args, built):
    """`./setup.sh image` alone is the README's command: no argument must not be an unbound
    variable under `set -u`. The building steps stand in here; only the parsing runs."""
    stand_ins = ('build_rootfs() { echo "full $1"; }; build_image() { echo "image $1"; }; '
                 'set_source_date_epoch() { :; }')
    ran = source_setup(f"{stand_ins}; image_command {args}")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == built.replace("build/image", str(ROOT / "build/image"))


def test_a_wheel_folder_missing_a_pin_is_refused_by_name(tmp_path):
    """Wheel names spell projects their own way (Kivy_Garden, pygments): each pin still counts."""
    for pin in pins():
        name, version = pin.split("==")
        spelt = name.replace("-", "_")
        (tmp_path / f"{spelt}-{version}-cp311-cp311-manylinux_2_28_aarch64.whl").touch()
    assert source_setup(f'check_wheel_folder "{tmp_path}"').returncode == 0
    next(tmp_path.glob("evdev-*.whl")).unlink()
    (tmp_path / "evdev-1.9.0-cp311-cp311-linux_aarch64.whl").touch()
    refused = source_setup(f'check_wheel_folder "{tmp_path}"')
    assert refused.returncode == 1
    assert "evdev==2.0.0" in refused.stderr and "Kivy" not in refused.stderr


def test_the_root_tarball_is_the_same_for_the_same_tree(tmp_path):
    """Names sorted and mtimes clamped to SOURCE_DATE_EPOCH: a file touched later (or made in
    another order) changes nothing."""
    tarballs = []
    for attempt, order in enumerate((("b", "a", "c"), ("c", "b", "a"))):
        tree = tmp_path / f"tree{attempt}"
        (tree / "etc").mkdir(parents=True)
        for name in order:
            (tree / "etc" / name).write_text(name)
        os.utime(tree / "etc" / "a", (2e9 + attempt, 2e9 + attempt))
        tarball = tmp_path / f"root{attempt}.tar"
        done = source_setup(f'SOURCE_DATE_EPOCH=1700000000 rootfs_tar "{tree}" "{tarball}"')
        assert done.returncode == 0, done.stderr
        tarballs.append(tarball.read_bytes())
    assert tarballs[0] == tarballs[1]
    listed = subprocess.run(["tar", "-tvf", str(tmp_path / "root0.tar")], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert [line.split()[-1] for line in listed] == ["./", "./etc/", "./etc/a", "./etc/b",
                                                      "./etc/c"]
    assert all("2023-11-14" in line for line in listed)
