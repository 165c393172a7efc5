"""RAUC locked down on the image: the pre-install handler that refuses older bundles (as a real
process with RAUC's environment), `kiosk update install --allow-older`, the files the image
gets, and the D-Bus policy checked on a private dbus-daemon with the real `rauc service` on
it: user nobody reads the status but may neither install nor mark a slot; root may."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

import pytest

from kiosk.cli import update_cmd
from kiosk.commands import CommandResult
from kiosk.update.state import UpdatePaths
from tests.conftest import ROOT
from tests.test_update_bundle import bash

RAUC_DIR = ROOT / "image/rauc"
SHIPPED_POLICY = Path("/usr/share/dbus-1/system.d/de.pengutronix.rauc.conf")
NOBODY = 65534


# --- the pre-install handler ------------------------------------------------------------------

def handler(tmp_path, bundle_version, *, running="0.2.0", allow=None):
    """`python -m kiosk.update.downgrade` as RAUC runs it: RAUC_* variables, and RAUC's
    handler-args as one argument (empty unless system.conf sets them: RAUC 1.8 passes "" then),
    after the test's paths."""
    release = tmp_path / "kiosk-release"
    if running is not None:
        release.write_text(f'VERSION="{running}"\nBUILD=2026-12-06T00:00:00Z\n')
    mark = tmp_path / "run-kiosk-update" / "allow-older"
    if allow is not None:
        allow(mark)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAUC_")}
    env.update({"RAUC_SYSTEM_CONFIG": "/etc/rauc/system.conf", "RAUC_CURRENT_BOOTNAME": "A",
                "RAUC_MF_COMPATIBLE": "library-kiosk-rpi-arm64", "RAUC_MOUNT_PREFIX": "/run/rauc",
                "RAUC_BUNDLE_MOUNT_POINT": "/run/rauc/bundle", "PYTHONPATH": str(ROOT)})
    if bundle_version is not None:
        env["RAUC_MF_VERSION"] = bundle_version
    return subprocess.run([sys.executable, "-m", "kiosk.update.downgrade", "--release", release,
                           "--allow-older", mark, ""], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def root_mark(mark: Path) -> None:
    mark.parent.mkdir(mode=0o700)
    mark.touch(0o600)


@pytest.mark.parametrize("version", ["0.2.1", "0.10.0", "0.2.0", "0.2.0+20270101", "1.0",
                                     "0.2.0-qemu", "0.3.0-broken"])
def test_the_handler_lets_newer_and_the_same_version_through(tmp_path, version):
    done = handler(tmp_path, version)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("version", ["0.1.9", "0.1.10+20991231", "0.0.1", "0.1.9-qemu"])
def test_the_handler_refuses_an_older_bundle_and_says_how_to_go_back(tmp_path, version):
    done = handler(tmp_path, version)
    assert done.returncode == 1
    assert f"{version} is older than the running system 0.2.0" in done.stderr
    assert "kiosk update install --allow-older" in done.stderr


def test_the_handler_refuses_a_bundle_without_a_readable_version(tmp_path):
    assert handler(tmp_path, None).returncode == 1
    garbled = handler(tmp_path, "next")
    assert garbled.returncode == 1 and "'next' is not a version" in garbled.stderr


def test_root_s_mark_lets_an_older_bundle_through(tmp_path):
    done = handler(tmp_path, "0.1.0", allow=root_mark)
    assert done.returncode == 0, done.stderr
    assert "without the version check, as root allowed" in done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the mark another owner")
def test_a_mark_anyone_but_root_could_make_does_not_count(tmp_path):
    def nobodys(mark):
        root_mark(mark)
        os.chown(mark, NOBODY, NOBODY)

    def in_open_folder(mark):
        root_mark(mark)
        mark.parent.chmod(0o777)

    def a_symlink(mark):
        mark.parent.mkdir(mode=0o700)
        (tmp_path / "elsewhere").touch()
        mark.symlink_to(tmp_path / "elsewhere")

    for allow in (nobodys, in_open_folder, a_symlink):
        shutil.rmtree(tmp_path / "run-kiosk-update", ignore_errors=True)
        assert handler(tmp_path, "0.1.0", allow=allow).returncode == 1, allow.__name__


def test_without_a_release_file_the_handler_cannot_compare_and_lets_it_through(tmp_path):
    done = handler(tmp_path, "0.1.0", running=None)
    assert done.returncode == 0 and "cannot compare" in done.stderr


@pytest.mark.parametrize(("version", "code"), [("0.1.9", 1), ("0.3.0", 0)])
def test_the_handler_reads_the_version_from_the_mounted_bundle_as_rauc_1_8_runs_it(
        tmp_path, version, code):
    """RAUC 1.8 gives the handler no RAUC_MF_VERSION (seen in QEMU): it has only the bundle
    mounted at RAUC_BUNDLE_MOUNT_POINT."""
    mount = tmp_path / "bundle"
    mount.mkdir()
    (mount / "manifest.raucm").write_text(
        f"[update]\ncompatible=library-kiosk-rpi-arm64\nversion={version}\n\n"
        "[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=root.ext4\n")
    release = tmp_path / "kiosk-release"
    release.write_text('VERSION="0.2.0"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAUC_")}
    env.update({"RAUC_BUNDLE_MOUNT_POINT": str(mount), "PYTHONPATH": str(ROOT)})
    done = subprocess.run([sys.executable, "-m", "kiosk.update.downgrade", "--release", release,
                           "--allow-older", tmp_path / "no-mark", ""], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == code, done.stderr
    if code:
        assert "0.1.9 is older than the running system 0.2.0" in done.stderr


# --- kiosk update install --allow-older ---------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="--allow-older is root's")
def test_allow_older_marks_only_while_rauc_installs(tmp_path, capsys):
    conf = tmp_path / "system.conf"
    conf.write_text("[system]\n")
    paths = UpdatePaths(conf, tmp_path / "kiosk-release", tmp_path / "cmdline")
    mark = tmp_path / "run-kiosk-update" / "allow-older"
    seen = []

    def runner(argv, *, input=None):
        if argv[:2] == ["rauc", "install"]:
            seen.append(mark.exists() and oct(mark.parent.stat().st_mode & 0o777))
            return CommandResult(1, "", "LastError: stop here")
        if argv[:2] == ["rauc", "info"]:
            return CommandResult(0, '{"version": "0.3.0"}')
        return CommandResult(1, "", "no")

    args = Namespace(bundle="old.raucb", allow_older=True)
    assert update_cmd.run_install(args, runner, paths, older_mark=mark) == 1
    assert seen == ["0o700"] and not mark.exists()
    assert "the version check is off for this install only" in capsys.readouterr().out
    args = Namespace(bundle="old.raucb", allow_older=False)
    update_cmd.run_install(args, runner, paths, older_mark=mark)
    assert seen == ["0o700", False]


def test_install_refuses_an_older_bundle_itself_and_says_why(tmp_path, capsys):
    """RAUC would say only "Pre-install handler error: Child process exited with code 1"
    (seen in QEMU), so `kiosk update install` checks the version first, with rauc info."""
    conf = tmp_path / "system.conf"
    conf.write_text("[system]\n")
    release = tmp_path / "kiosk-release"
    release.write_text('VERSION="0.2.0"\n')
    paths = UpdatePaths(conf, release, tmp_path / "cmdline")
    calls = []

    def runner(argv, *, input=None):
        calls.append(argv[:2])
        if argv[:2] == ["rauc", "info"]:
            return CommandResult(0, '{"version": "0.1.9"}')
        return CommandResult(0, "")

    args = Namespace(bundle="old.raucb", allow_older=False)
    assert update_cmd.run_install(args, runner, paths) == 1
    err = capsys.readouterr().err
    assert "0.1.9 is older than the running system 0.2.0" in err and "--allow-older" in err
    assert ["rauc", "install"] not in calls


# --- what the image gets --------------------------------------------------------------------

def test_the_image_tree_gets_the_handler_and_the_policy_and_rauc_names_the_handler(tmp_path):
    key = tmp_path / "update-key"
    if not shutil.which("openssl"):
        pytest.skip("needs openssl (./setup.sh deps)")
    assert bash(f'make_update_key "{key}"', key).returncode == 0
    tree = tmp_path / "out" / "rootfs"
    tree.mkdir(parents=True)
    done = bash(f'install_update_config "{tree}"', key)
    assert done.returncode == 0, done.stderr
    conf = configparser.ConfigParser()
    conf.read(tree / "etc/rauc/system.conf")
    handler_path = conf["handlers"]["pre-install"]
    installed = tree / handler_path.lstrip("/")
    assert installed.read_bytes() == (RAUC_DIR / "pre-install").read_bytes()
    assert os.access(installed, os.X_OK)
    assert "-m kiosk.update.downgrade" in installed.read_text()
    assert (tree / "etc/dbus-1/system.d/kiosk-rauc.conf").read_bytes() == \
        (RAUC_DIR / "kiosk-rauc-dbus.conf").read_bytes()


# --- the D-Bus policy on a real bus with the real rauc service --------------------------------

# The base policy of a system bus, as Debian's /usr/share/dbus-1/system.conf sets it: method
# calls denied unless a package's file allows them; replies and signals flow.
BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  {includes}
</busconfig>
"""
# What Debian 12's rauc-service 1.8 puts in /usr/share/dbus-1/system.d, in our words, for a
# machine without that package: anyone may call RAUC, root may own its name.
SHIPPED_STAND_IN = """<!DOCTYPE busconfig PUBLIC \
"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy context="default"><allow send_destination="de.pengutronix.rauc"/></policy>
  <policy user="root"><allow own="de.pengutronix.rauc"/></policy>
</busconfig>
"""
RAUC_CONF = """[system]
compatible=library-kiosk-rpi-arm64
bootloader=noop
data-directory={where}/data
mountprefix={where}/mnt

[keyring]
path={where}/keyring.pem

[slot.rootfs.0]
device={where}/slot0
type=ext4
bootname=A

[slot.rootfs.1]
device={where}/slot1
type=ext4
bootname=B
"""


def bus_why_not() -> str | None:
    missing = [t for t in ("dbus-daemon", "rauc", "setpriv") if not shutil.which(t)]
    if missing:
        reason = f"needs {', '.join(missing)} (./setup.sh deps installs rauc)"
    elif os.geteuid() != 0:
        reason = "needs root to run rauc's service and to call it as user nobody"
    else:
        return None
    if os.environ.get("CI"):
        raise RuntimeError(f"the D-Bus policy test cannot run in CI: {reason}")
    return reason


class PrivateBus:
    """A dbus-daemon of the test's own, with `rauc service` on it (as root)."""

    def __init__(self, policies: list[Path]) -> None:
        # Not under pytest's tmp_path (0700): user nobody must reach the socket and the bundle.
        where = Path(tempfile.mkdtemp(prefix="kiosk-bus-"))
        where.chmod(0o755)
        self.where = where
        self.address = f"unix:path={where}/bus"
        includes = "\n  ".join(f"<include>{p}</include>" for p in policies)
        (where / "bus.conf").write_text(BUS.format(socket=where / "bus", includes=includes))
        (where / "system.conf").write_text(RAUC_CONF.format(where=where))
        for name in ("slot0", "slot1", "keyring.pem"):
            (where / name).touch()
        self.bundle = where / "kiosk-0.3.0-arm64.raucb"
        self.bundle.write_text("not really a bundle")
        self.bundle.chmod(0o644)
        self.daemon = subprocess.Popen(["dbus-daemon", "--config-file", where / "bus.conf",
                                        "--nofork", "--print-address"], stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL, text=True)
        assert self.daemon.stdout.readline().startswith("unix:")  # listening now
        self.rauc = subprocess.Popen(["rauc", "--conf", where / "system.conf",
                                      "--override-boot-slot=A", "service"],
                                     env=self.env(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while self.call(["rauc", "status", "--output-format=json"]).returncode != 0:
            assert self.rauc.poll() is None, "rauc service stopped"
            assert time.monotonic() < deadline, "rauc service never answered"
            time.sleep(0.1)

    def env(self) -> dict[str, str]:
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.address}

    def call(self, argv, *, as_nobody=False) -> subprocess.CompletedProcess:
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] \
            if as_nobody else []
        return subprocess.run([*prefix, *argv], env=self.env(), capture_output=True, text=True,
                              timeout=60, cwd="/")

    def close(self) -> None:
        for process in (self.rauc, self.daemon):
            process.terminate()
            process.wait(10)
        shutil.rmtree(self.where, ignore_errors=True)


def policies(tmp_path, ours: bool) -> list[Path]:
    shipped = SHIPPED_POLICY
    if not shipped.exists():
        shipped = tmp_path / "de.pengutronix.rauc.conf"
        shipped.write_text(SHIPPED_STAND_IN)
    # /usr/share/dbus-1/system.d first, /etc/dbus-1/system.d after: the order system.conf has.
    return [shipped, RAUC_DIR / "kiosk-rauc-dbus.conf"] if ours else [shipped]


def denied(result: subprocess.CompletedProcess) -> bool:
    """The bus refused the call (rauc prints the error's name for Install, only its text,
    "Rejected send message", for Mark)."""
    said = result.stdout + result.stderr
    return "AccessDenied" in said or "Rejected send message" in said


@pytest.fixture
def bus(tmp_path):
    reason = bus_why_not()
    if reason:
        pytest.skip(reason)
    running = PrivateBus(policies(tmp_path, ours=True))
    yield running
    running.close()


def test_nobody_reads_rauc_status_but_may_not_install_or_mark(bus):
    status = bus.call(["rauc", "status", "--output-format=json"], as_nobody=True)
    assert status.returncode == 0 and '"booted":"A"' in status.stdout, status.stderr
    for argv in (["rauc", "install", str(bus.bundle)], ["rauc", "status", "mark-good"],
                 ["rauc", "status", "mark-active", "other"]):
        result = bus.call(argv, as_nobody=True)
        assert result.returncode != 0 and denied(result), (argv, result.stdout, result.stderr)
    # Root is let through: RAUC itself answers (this file is no bundle).
    root = bus.call(["rauc", "install", str(bus.bundle)])
    assert root.returncode != 0 and not denied(root) and "bundle" in root.stdout + root.stderr
    marked = bus.call(["rauc", "status", "mark-good"])
    assert marked.returncode == 0 and "marked slot rootfs.0 as good" in marked.stdout


def test_without_our_policy_anyone_could_install(tmp_path):
    """The test above can fail: with only what rauc-service ships, nobody reaches RAUC."""
    reason = bus_why_not()
    if reason:
        pytest.skip(reason)
    bus = PrivateBus(policies(tmp_path, ours=False))
    try:
        result = bus.call(["rauc", "install", str(bus.bundle)], as_nobody=True)
        assert not denied(result) and "Invalid bundle" in result.stdout + result.stderr
        assert bus.call(["rauc", "status", "mark-good"], as_nobody=True).returncode == 0
    finally:
        bus.close()


def test_the_helper_reads_real_rauc_install_output(bus, monkeypatch):
    """What kiosk.media.install parses is what RAUC 1.8's own `rauc install` prints: percent
    steps while the service works, then LastError when it fails (this file is no bundle)."""
    from kiosk.media import install
    from kiosk.update import rauc

    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
    steps = []
    result = install.install(str(bus.bundle), install.run_lines, steps.append)
    assert not result.ok
    assert any(step.percent is not None for step in steps), steps
    assert rauc.install_failure(result).startswith("Invalid bundle format"), result.stdout
