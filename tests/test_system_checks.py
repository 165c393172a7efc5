"""`kiosk doctor`'s machine checks: recorded `systemctl show` output where this machine has no
systemd, the real /proc/self/mountinfo, `ip` and a loop-mounted KIOSKDATA file system where it
can. Nothing may raise on a machine without systemd."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import boot_report, commands, system_checks
from kiosk.boot_report import BootProblem, BootReport
from kiosk.bootsetup.paths import BootPaths
from kiosk.commands import CommandResult
from kiosk.config import load_files
from kiosk.i18n import Translator
from tests import small_partition
from tests.conftest import ROOT

FSCK_UNIT = "systemd-fsck@dev-disk-by\\x2dlabel-KIOSKDATA.service"
SERVICE_SHOW = ("systemctl", "show", "kiosk.service", "-p",
                "LoadState,ActiveState,SubState,NRestarts,StatusText,WatchdogUSec")
MANAGER_SHOW = ("systemctl", "show", "-p", "RuntimeWatchdogUSec")
FSCK_SHOW = ("systemctl", "show", FSCK_UNIT, "-p", "LoadState,ActiveState,Result,ExecMainStatus")
TIMESYNCD_SHOW = ("systemctl", "show", "systemd-timesyncd.service", "-p", "ActiveState,SubState")
TIMESYNC = ("timedatectl", "show-timesync", "-p", "ServerName", "--value")

# What systemd 252 (Debian 12) prints, in its own order.
RUNNING = ("NRestarts=0\nWatchdogUSec=30s\nStatusText=in service\nLoadState=loaded\n"
           "ActiveState=active\nSubState=running\n")


class Recorded:
    """Answers recorded commands, runs the real tool for the others (ip, blkid,
    systemd-escape), and keeps what was asked."""

    def __init__(self, answers: dict[tuple[str, ...], str | CommandResult]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, ...]] = []

    def __call__(self, argv, *, input=None) -> CommandResult:
        self.asked.append(tuple(argv))
        answer = self.answers.get(tuple(argv))
        if answer is None:
            if argv[0] == "systemctl" or argv[0] == "timedatectl":
                return CommandResult(1, stderr="System has not been booted with systemd")
            return commands.run(argv, input=input)
        return answer if isinstance(answer, CommandResult) else CommandResult(0, answer)


@pytest.fixture
def systemd(tmp_path) -> BootPaths:
    """Paths of a machine where systemd runs (its marker folder exists) and /dev has a
    watchdog; the rest real."""
    (tmp_path / "systemd").mkdir()
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "watchdog").touch()
    return BootPaths(systemd_marker=tmp_path / "systemd", dev=tmp_path / "dev",
                     report=tmp_path / "report.json")


def config(tmp_path, text: str = ""):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n' + text)
    (tmp_path / "data").mkdir(exist_ok=True)
    return load_files([path])


def by_name(checks):
    return {c.name: c for c in checks}


def test_without_systemd_every_check_answers_and_none_crashes(tmp_path):
    paths = BootPaths(systemd_marker=tmp_path / "no-systemd", report=tmp_path / "report.json")
    checks = by_name(system_checks.gather(config(tmp_path), runner=Recorded({}), paths=paths))
    assert list(checks) == ["service", "watchdog", "root", "data", "ssh", "boot-setup", "network",
                            "time", "update"]
    assert checks["service"].ok is None and checks["watchdog"].ok is None
    assert checks["service"].summary.english == "not running under systemd here"
    assert checks["boot-setup"].ok is None
    assert "timesyncd: unknown here" in checks["time"].summary.english


def test_a_running_service_with_its_watchdog_and_the_hardware_one(tmp_path, systemd):
    runner = Recorded({SERVICE_SHOW: RUNNING, MANAGER_SHOW: "RuntimeWatchdogUSec=15s\n"})
    checks = by_name(system_checks.gather(config(tmp_path), runner=runner, paths=systemd))
    service, watchdog = checks["service"], checks["watchdog"]
    assert service.ok is True and not service.warning
    assert service.summary.english == ("kiosk.service active (running), restarted 0 times; "
                                       "status: in service")
    assert watchdog.ok is True and not watchdog.warning
    assert watchdog.summary.english == "kiosk.service 30s, hardware 15s (/dev/watchdog)"


def test_restarts_warn_and_a_failed_service_is_a_fault(tmp_path, systemd):
    restarted = RUNNING.replace("NRestarts=0", "NRestarts=3")
    service = by_name(system_checks.gather(
        config(tmp_path), runner=Recorded({SERVICE_SHOW: restarted}), paths=systemd))["service"]
    assert service.ok is True and service.warning and "restarted 3 times" in service.summary.english
    failed = ("LoadState=loaded\nActiveState=failed\nSubState=failed\nNRestarts=5\n"
              "StatusText=\nWatchdogUSec=30s\n")
    service = by_name(system_checks.gather(
        config(tmp_path), runner=Recorded({SERVICE_SHOW: failed}), paths=systemd))["service"]
    assert service.ok is False and "journalctl -u kiosk" in service.advice.english
    missing = "LoadState=not-found\nActiveState=inactive\nSubState=dead\nWatchdogUSec=0\n"
    service = by_name(system_checks.gather(
        config(tmp_path), runner=Recorded({SERVICE_SHOW: missing}), paths=systemd))["service"]
    assert service.ok is None and "setup.sh install" in service.advice.english


def test_no_hardware_watchdog_is_a_warning_and_no_service_watchdog_a_fault(tmp_path, systemd):
    (systemd.dev / "watchdog").unlink()
    older = RUNNING.replace("WatchdogUSec=30s", "WatchdogUSec=30000000")  # systemd < 249
    watchdog = by_name(system_checks.gather(
        config(tmp_path), runner=Recorded({SERVICE_SHOW: older, MANAGER_SHOW:
                                           "RuntimeWatchdogUSec=0\n"}),
        paths=systemd))["watchdog"]
    assert watchdog.ok is True and watchdog.warning
    assert watchdog.summary.english == "kiosk.service 30s, hardware off (no /dev/watchdog)"
    off = RUNNING.replace("WatchdogUSec=30s", "WatchdogUSec=infinity")
    watchdog = by_name(system_checks.gather(
        config(tmp_path), runner=Recorded({SERVICE_SHOW: off}), paths=systemd))["watchdog"]
    assert watchdog.ok is False


def test_root_mode_comes_from_the_real_mount_table(tmp_path):
    root = system_checks.check_root(BootPaths())
    options = next(line.split()[5] for line in Path("/proc/self/mountinfo").read_text()
                   .splitlines() if line.split()[4] == "/")
    expected = "read-only" if "ro" in options.split(",") else "read-write"
    assert root.ok is True and root.summary.english.startswith(expected)
    fake = tmp_path / "mountinfo"
    fake.write_text("22 1 179:2 / / ro,noatime shared:1 - ext4 /dev/mmcblk0p2 ro\n")
    assert system_checks.check_root(BootPaths(mountinfo=fake)).summary.english == \
        "read-only (ext4)"


def test_plain_data_folders_are_named_so(tmp_path):
    paths = BootPaths(report=tmp_path / "r.json", data_mount=tmp_path / "top")
    data = by_name(system_checks.gather(config(tmp_path), runner=Recorded({}),
                                        paths=paths))["data"]
    assert data.ok is True
    assert data.summary.english.startswith(
        f"{tmp_path / 'top'} and {tmp_path / 'data'} are plain folders on the root: ")


def test_a_data_partition_fstab_expects_but_nothing_mounted_is_a_fault(tmp_path):
    """nofail lets the boot go on without KIOSKDATA: the kiosk then writes to the root."""
    fstab = tmp_path / "fstab"
    fstab.write_text(f"# LABEL=OLD {tmp_path / 'top'} ext4\n"
                     f"LABEL=KIOSKDATA {tmp_path / 'top'} ext4 defaults,nofail 0 2\n")
    paths = BootPaths(report=tmp_path / "r.json", data_mount=tmp_path / "top", fstab=fstab)
    data = system_checks.check_data(config(tmp_path), Recorded({}), paths, False)
    assert data.ok is False
    assert data.summary.english.startswith(
        f"/etc/fstab mounts LABEL=KIOSKDATA at {tmp_path / 'top'}, but nothing is mounted")
    assert "data.mount" in data.advice.english


@pytest.fixture
def kioskdata(tmp_path):
    """A real ext4 file system labelled KIOSKDATA, loop-mounted as /data (tmp_path/top)."""
    reason = small_partition.why_not()
    if reason:
        pytest.skip(reason)
    image, top = tmp_path / "data.img", tmp_path / "top"
    top.mkdir()
    subprocess.run(["truncate", "-s", "8M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-L", "KIOSKDATA", str(image)],
                   check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(top)], check=True)
    (top / "kiosk").mkdir()
    yield top
    subprocess.run(["umount", str(top)], check=False)


@pytest.fixture
def bound(tmp_path, kioskdata):
    """/data/kiosk bound at the kiosk's data folder, as fstab does."""
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    subprocess.run(["mount", "--bind", str(kioskdata / "kiosk"), str(folder)], check=True)
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("status, ok, warning, words", [
    ("Result=success\nExecMainStatus=0\n", True, False, "fsck at boot: clean"),
    ("Result=success\nExecMainStatus=1\n", True, True, "errors corrected (exit 1)"),
    ("Result=exit-code\nExecMainStatus=4\n", False, False, "exit-code (exit 4)"),
])
def test_the_kioskdata_partition_and_its_bound_folder_with_size_and_fsck_result(
        tmp_path, systemd, kioskdata, bound, status, ok, warning, words):
    fsck = "LoadState=loaded\nActiveState=active\n" + status
    runner = Recorded({FSCK_SHOW: fsck})
    paths = dataclasses.replace(systemd, data_mount=kioskdata)
    data = by_name(system_checks.gather(config(tmp_path), runner=runner, paths=paths))["data"]
    assert data.ok is ok and data.warning is warning
    english = data.summary.english
    assert re.match(rf"{kioskdata} is the KIOSKDATA partition /dev/loop\d+, {bound} is its "
                    r"folder kiosk/ \(bind mount\): \d+ MB free of \d+ MB;", english), english
    assert words in english
    assert ("systemd-escape", "--path", "/dev/disk/by-label/KIOSKDATA") in runner.asked


def test_a_data_partition_without_the_bound_folder_is_a_fault(tmp_path, systemd, kioskdata):
    paths = dataclasses.replace(systemd, data_mount=kioskdata)
    data = system_checks.check_data(config(tmp_path), Recorded({}), paths, True)
    assert data.ok is False
    assert data.summary.english.startswith(f"{kioskdata} is /dev/loop")
    assert f"but {tmp_path / 'data'} is not its folder kiosk/" in data.summary.english
    assert "var-lib-kiosk.mount" in data.advice.english


def test_the_partition_straight_at_the_data_folder_is_the_old_layout(tmp_path, systemd,
                                                                     kioskdata):
    """Issue 13's fstab: KIOSKDATA at /var/lib/kiosk, no /data."""
    paths = dataclasses.replace(systemd, data_mount=tmp_path / "no-such-top")
    folder = config(tmp_path, "").data_dir
    subprocess.run(["umount", str(kioskdata)], check=True)
    subprocess.run(["mount", "-o", "loop", str(tmp_path / "data.img"), str(folder)], check=True)
    try:
        data = system_checks.check_data(config(tmp_path), Recorded({}), paths, True)
    finally:
        subprocess.run(["umount", str(folder)], check=False)
    assert data.ok is True and data.warning
    assert data.summary.english.startswith(f"{folder} is /dev/loop")
    assert "./setup.sh install again" in data.advice.english


def make_host_key(folder: Path, kind: str = "ed25519") -> str:
    """A real key made by ssh-keygen; its fingerprint as ssh-keygen -l prints it."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / f"ssh_host_{kind}_key"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(key)], check=True)
    return subprocess.run(["ssh-keygen", "-l", "-f", f"{key}.pub"], capture_output=True,
                          text=True, check=True).stdout.split()[1]


@pytest.fixture
def ssh_keygen():
    if not shutil.which("ssh-keygen"):
        pytest.skip("needs ssh-keygen (openssh-client)")


def test_ssh_says_the_host_keys_fingerprints(tmp_path, systemd, ssh_keygen):
    paths = dataclasses.replace(systemd, data_mount=tmp_path / "top",
                                host_keys_fallback=tmp_path / "run-ssh")
    assert system_checks.check_ssh(paths, commands.run).ok is None  # none yet
    fingerprint = make_host_key(tmp_path / "top" / "ssh")
    check = system_checks.check_ssh(paths, commands.run)
    assert check.ok is True and not check.warning
    assert check.summary.english == f"host keys: ED25519 {fingerprint}"
    # The kiosk user cannot read /data/ssh: the doctor reads boot-setup's report instead.
    boot_report.write(BootReport(facts={"ssh_host_keys": f"ED25519 {fingerprint}"}),
                      paths.report)
    unreadable = dataclasses.replace(paths, data_mount=tmp_path / "elsewhere")
    assert system_checks.check_ssh(unreadable, commands.run).summary.english == \
        f"host keys: ED25519 {fingerprint}"


def test_ssh_warns_about_host_keys_made_for_one_boot(tmp_path, systemd, ssh_keygen):
    paths = dataclasses.replace(systemd, data_mount=tmp_path / "top",
                                host_keys_fallback=tmp_path / "run-ssh")
    fingerprint = make_host_key(tmp_path / "run-ssh")
    check = system_checks.check_ssh(paths, commands.run)
    assert check.ok is True and check.warning
    assert fingerprint in check.summary.english and "for this boot only" in check.summary.english


def test_boot_setup_problems_are_a_fault(tmp_path, systemd):
    boot_report.write(BootReport("/boot/firmware", (BootProblem("wifi.toml", "country must be "
                                                                 "two capital letters\nmore"),),
                                 facts={"hostname": "lib-1"}), systemd.report)
    check = system_checks.check_boot_setup(systemd)
    assert check.ok is False
    assert check.summary.english == ("1 problems on the boot folder, first: wifi.toml: country "
                                     "must be two capital letters")
    boot_report.write(BootReport("/boot/firmware", facts={
        "hostname": "lib-1", "data_partition": "/dev/mmcblk0p3, 1.0 GB",
        "data_partition_not_grown": "cannot grow the data partition /dev/mmcblk0p3: ..."}),
        systemd.report)
    check = system_checks.check_boot_setup(systemd)
    assert check.ok is True and check.warning


def test_network_from_the_real_ip_tool_and_without_a_route(tmp_path):
    real = system_checks.check_network(commands.run)
    routes = json.loads(subprocess.run(["ip", "-j", "route", "show", "default"],
                                       capture_output=True, text=True).stdout or "[]")
    if routes:
        assert real.summary.english.startswith(routes[0]["dev"] + ": ")
    none = system_checks.check_network(Recorded({("ip", "-j", "route", "show", "default"): "[]"}))
    assert none.ok is False and "wifi.toml" in none.advice.english
    missing = system_checks.check_network(
        Recorded({("ip", "-j", "route", "show", "default"):
                  CommandResult(127, stderr="ip: not installed")}))
    assert missing.ok is None


def test_time_names_the_servers_and_timesyncd(tmp_path, systemd, monkeypatch):
    monkeypatch.setattr(system_checks.system, "clock_synchronised", lambda: True)
    runner = Recorded({TIMESYNCD_SHOW: "ActiveState=active\nSubState=running\n",
                       TIMESYNC: "ntp.lib.cn\n"})
    check = system_checks.check_time(config(tmp_path, '[time]\nntp_servers = "ntp.lib.cn"\n'),
                                     runner, True)
    assert check.ok is True
    assert check.summary.english == ("clock synchronised; servers: ntp.lib.cn; timesyncd: "
                                     "active (running), talking to ntp.lib.cn")
    stopped = Recorded({TIMESYNCD_SHOW: "ActiveState=inactive\nSubState=dead\n"})
    assert system_checks.check_time(config(tmp_path), stopped, True).ok is False
    # timedatectl would wait D-Bus's 25 s for a timesyncd that is not running: not asked.
    assert TIMESYNC not in stopped.asked


def test_every_summary_and_advice_is_translated(tmp_path, systemd):
    translator = Translator()
    runner = Recorded({SERVICE_SHOW: RUNNING.replace("NRestarts=0", "NRestarts=1"),
                       MANAGER_SHOW: "RuntimeWatchdogUSec=0\n"})
    for check in system_checks.gather(config(tmp_path), runner=runner, paths=systemd):
        for message in filter(None, (check.summary, check.advice)):
            assert translator.tr("zh_CN", message.msgid, **message.args) != message.english, \
                message.msgid


def test_doctor_prints_the_machine_checks_after_the_others(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
    result = subprocess.run([sys.executable, "-m", "kiosk", "doctor", "--config", str(path)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    names = [line.split()[1] for line in result.stdout.splitlines() if line[:1] != " "]
    assert names[names.index("translations") + 1:] == [
        "service", "watchdog", "root", "data", "ssh", "boot-setup", "network", "time", "update"]
    assert "Traceback" not in result.stderr
