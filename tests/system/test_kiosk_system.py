"""The kiosk installed on a fresh Debian 12 and booted: `./setup.sh install --wheels` into a
minbase container, then systemd as PID 1 with the real units, Xvfb standing in for the screen.

Checked from the host: the app reaches READY; a hung UI (SIGSTOP) is restarted by the watchdog
and a crash (SIGSEGV) by Restart=; the first boot moves central.token off the boot folder; a
bad kiosk.toml on the boot folder shows out of service with its message; a crash loop ends in
kiosk-out-of-service.service; the PC install's SSH host keys move to /data/ssh and back with a
running sshd that keeps accepting a key login; the kiosk runs on a read-only root with a
KIOSKDATA stand-in (a loop-mounted ext4) at /data: its folders made at the first boot, /data/kiosk
bound at /var/lib/kiosk, host keys made once and kept across a reboot; uninstall keeps data and
config, --purge does not. Each phase is timed (artifacts/i13/system-test-timings.txt).

Slow (a few minutes) and root only: `./setup.sh system-test`, marker `system`, not in the
normal run. The tests run in file order on one container."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import small_partition
from tests.conftest import ARTIFACTS, ROOT
from tests.system import container, phases
from tests.system.phases import phase
from tests.system.screen import xwd_to_png

pytestmark = [pytest.mark.system, pytest.mark.timeout(900),
              pytest.mark.skipif(container.why_not() is not None,
                                 reason=container.why_not() or "")]

OUT = ARTIFACTS / "i13"
FILES = Path(__file__).parent / "files"
TOKEN = "kt_" + "0123456789abcdef" * 3
SRC, WHEELS = "/root/kiosk-src", "/root/wheels"
CLIENT_KEY = "/root/test-ssh-key"  # in the tree: the technician's key for the SSH logins
HOST_KEY = "ssh_host_ed25519_key.pub"


@pytest.fixture(scope="module", autouse=True)
def save_timings():
    yield
    if phases.TIMINGS:
        phases.save(OUT / "system-test-timings.txt")


def kiosk_packages() -> tuple[str, ...]:
    listed = subprocess.run(["bash", "-c", f'source "{ROOT}/setup.sh" && '
                             'echo "${KIOSK_APT_PACKAGES[@]}"'],
                            capture_output=True, text=True, check=True)
    return tuple(listed.stdout.split())


@pytest.fixture(scope="module")
def wheels() -> Path:
    folder = container.CACHE / "wheels"
    shutil.rmtree(folder, ignore_errors=True)  # the project's wheel must be this checkout's
    with phase("host: ./setup.sh wheels"):
        built = subprocess.run([str(ROOT / "setup.sh"), "wheels", str(folder)],
                               capture_output=True, text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return folder


@pytest.fixture(scope="module")
def work() -> Path:
    """This run's trees and folders: under the cache, not pytest's temporary folders (other
    pytest runs on the machine prune those), kept after the run for a look, replaced by the next."""
    folder = container.CACHE / "run"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def tree(work, wheels) -> Path:
    # The runtime packages are in the cached tarball already: the install's apt step then finds
    # nothing missing and the test needs no network after the first run.
    with phase("mmdebstrap minbase tarball (cached)"):
        tarball = container.base_tarball(kiosk_packages() + container.TEST_PACKAGES)
    root = work / "tree"
    with phase("unpack the tarball"):
        container.unpack(tarball, root)
    # A technician's key: in the tree for the client, root's own authorized_keys too (logins
    # must work while the kiosk's sshd drop-in is uninstalled).
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(root / CLIENT_KEY.lstrip("/"))], check=True)
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(root / (CLIENT_KEY.lstrip("/") + ".pub"), ssh_dir / "authorized_keys")
    return root


def ssh_login(kiosk: container.Booted, host_key: str) -> subprocess.CompletedProcess:
    """A key login as root to 127.0.0.1 inside the container, trusting only `host_key` (a .pub
    line): a host key other than the one expected is refused."""
    kiosk.wait_for("ssh.service active", lambda: kiosk.show("ssh.service", "ActiveState")
                   ["ActiveState"] == "active", timeout=120)
    kind, body = host_key.split()[:2]
    kiosk.path("/run/test-known-hosts").write_text(f"127.0.0.1 {kind} {body}\n")
    return kiosk.run("ssh", "-i", CLIENT_KEY, "-o", "BatchMode=yes",
                     "-o", "StrictHostKeyChecking=yes", "-o", f"HostKeyAlgorithms={kind}",
                     "-o", "UserKnownHostsFile=/run/test-known-hosts", "root@127.0.0.1",
                     "echo", "logged-in", check=False, timeout=60)


def install(tree: Path, wheels: Path, *options: str) -> subprocess.CompletedProcess:
    return container.nspawn_run(tree, [f"{SRC}/setup.sh", "install", "--wheels", WHEELS,
                                       *options], {ROOT: SRC, wheels: WHEELS})


@pytest.fixture(scope="module")
def debian_host_key(tree) -> str:
    """The host key openssh-server made when the tree was built: a PC's own identity."""
    return (tree / "etc/ssh" / HOST_KEY).read_text()


def test_install_into_a_fresh_debian_and_again_in_place(tree, wheels, debian_host_key):
    debian_private = (tree / "etc/ssh/ssh_host_ed25519_key").read_bytes()
    with phase("./setup.sh install (fresh)"):
        first = install(tree, wheels)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "system-test-install.txt").write_text(first.stdout + first.stderr)
    assert first.returncode == 0, first.stdout + first.stderr
    config = tree / "etc/kiosk/kiosk.toml"
    config.write_text(config.read_text() + "\n# a technician's change\n")
    with phase("./setup.sh install (again: upgrade in place)"):
        again = install(tree, wheels)
    assert again.returncode == 0, again.stdout + again.stderr
    assert config.read_text().endswith("# a technician's change\n")  # never overwritten
    data = tree / "var/lib/kiosk"
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    # A PC: /data is a plain folder with ssh/ and rauc/; the kiosk's data stays in
    # /var/lib/kiosk; the host keys moved from /etc/ssh to /data/ssh, the same bytes.
    top = tree / "data"
    assert sorted(p.name for p in top.iterdir()) == ["rauc", "ssh"]
    assert [oct(p.stat().st_mode & 0o777) for p in (top, top / "ssh", top / "rauc")] == [
        "0o755", "0o700", "0o755"]
    assert (top / "ssh" / HOST_KEY).read_text() == debian_host_key
    assert (top / "ssh/ssh_host_ed25519_key").read_bytes() == debian_private
    assert not list((tree / "etc/ssh").glob("ssh_host_*"))
    assert (tree / "opt/kiosk/.venv/bin/kiosk").exists()
    assert os.readlink(tree / "usr/local/bin/kiosk") == "/opt/kiosk/.venv/bin/kiosk"
    wants = tree / "etc/systemd/system/multi-user.target.wants"
    assert {"kiosk.service", "kiosk-firstboot.service"} <= {p.name for p in wants.iterdir()}
    for masked in ("getty@tty1.service", "ctrl-alt-del.target"):
        assert os.readlink(tree / "etc/systemd/system" / masked) == "/dev/null"
    # The test's stand-in screen, installed by the test only.
    units = tree / "etc/systemd/system"
    shutil.copy(FILES / "kiosk-test-xvfb.service", units)
    for drop_in in ("kiosk.service.d", "kiosk-out-of-service.service.d"):
        shutil.copytree(FILES / drop_in, units / drop_in, dirs_exist_ok=True)
    (tree / "boot/firmware").mkdir(exist_ok=True)


@pytest.fixture(scope="module")
def boot_folder(work) -> Path:
    folder = work / "boot-firmware"
    folder.mkdir()
    (folder / "central.token").write_text(TOKEN + "\n")
    (folder / "kiosk.toml").write_text('[kiosk]\nid = "kiosk-system-test"\n')
    return folder


def authorize(boot_folder: Path, tree: Path) -> None:
    """The technician's key on the boot folder, as on a card."""
    shutil.copy(tree / (CLIENT_KEY.lstrip("/") + ".pub"), boot_folder / "authorized_keys")


@pytest.fixture(scope="module")
def booted(tree, boot_folder, work, wheels):
    authorize(boot_folder, tree)
    with phase("first boot: nspawn start to kiosk.service READY"):
        # The checkout and the wheels too, for an upgrade in place on the running system.
        kiosk = container.boot(tree, {boot_folder: "/boot/firmware"}, work / "console.log",
                               read_only_binds={ROOT: SRC, wheels: WHEELS})
        try:
            kiosk.wait_for("kiosk.service active (READY=1)", lambda: ready(kiosk), timeout=120)
        except BaseException:
            keep_journal(kiosk, "first-boot")
            kiosk.stop()
            raise
    yield kiosk
    keep_journal(kiosk, "first-boot")
    kiosk.stop()


def keep_journal(kiosk: container.Booted, name: str) -> None:
    if kiosk.process.poll() is None:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"system-test-journal-{name}.txt").write_text(
            kiosk.run("journalctl", "--no-pager", "-b", check=False).stdout)


def ready(kiosk: container.Booted) -> dict[str, str] | None:
    state = kiosk.show("kiosk.service", "ActiveState", "SubState", "MainPID", "NRestarts",
                       "StatusText")
    return state if state["ActiveState"] == "active" and state["SubState"] == "running" else None


def test_the_kiosk_reaches_ready_with_its_status(booted):
    state = ready(booted)
    assert state and int(state["MainPID"]) > 0
    assert state["StatusText"], "kiosk run sends STATUS= with what it is doing"
    firstboot = booted.show("kiosk-firstboot.service", "ActiveState", "Result")
    assert firstboot == {"ActiveState": "active", "Result": "success"}, booted.journal(
        "kiosk-firstboot.service")
    hostname = booted.run("hostname").stdout.strip()
    assert hostname == "kiosk-system-test"


def test_the_system_settings_are_in_force(booted):
    """The hardware watchdog's drop-in read by PID 1, no login prompt on the kiosk's screen and
    no reboot from Ctrl+Alt+Del on its keyboard, the journal's size limits in journald's merged
    configuration, sshd's keys from the boot folder."""
    manager = booted.show("", "RuntimeWatchdogUSec", "RebootWatchdogUSec", "CtrlAltDelBurstAction")
    assert manager == {"RuntimeWatchdogUSec": "15s", "RebootWatchdogUSec": "2min",
                       "CtrlAltDelBurstAction": "none"}
    for masked in ("getty@tty1.service", "ctrl-alt-del.target"):
        assert booted.run("systemctl", "is-enabled", masked,
                          check=False).stdout.strip() == "masked", masked
    journald = booted.run("systemd-analyze", "cat-config", "systemd/journald.conf").stdout
    assert "SystemMaxUse=64M" in journald and "RuntimeMaxUse=16M" in journald
    sshd = booted.run("/usr/sbin/sshd", "-T").stdout
    assert "authorizedkeysfile .ssh/authorized_keys /run/kiosk-boot/authorized_keys/%u" in sshd
    assert "passwordauthentication no" in sshd


def test_the_sandbox_keeps_the_device_groups_and_the_network(booted):
    """Hardened, yet the app opens its devices by group and its download server is on the
    library network: the host's network namespace, not a private one."""
    pid = ready(booted)["MainPID"]
    status = booted.run("cat", f"/proc/{pid}/status").stdout
    groups = {int(g) for line in status.splitlines() if line.startswith("Groups:")
              for g in line.split()[1:]}
    wanted = {booted.run("getent", "group", name).stdout.split(":")[2]
              for name in ("input", "dialout", "video", "render", "audio")}
    assert {int(g) for g in wanted} <= groups
    net = booted.run("readlink", f"/proc/{pid}/ns/net", "/proc/1/ns/net").stdout.split()
    assert net[0] == net[1]
    security = booted.run("systemd-analyze", "security", "--no-pager", "kiosk.service").stdout
    (OUT / "system-test-security.txt").write_text(security)
    exposure = float(security.strip().splitlines()[-1].split("exposure level for "
                                                              "kiosk.service: ")[1].split()[0])
    assert exposure <= 4.0, security.strip().splitlines()[-1]


def test_the_first_boot_moved_the_token_off_the_boot_folder(booted, boot_folder):
    assert not (boot_folder / "central.token").exists()
    stored = booted.path("/var/lib/kiosk/central.token")
    assert stored.read_text().strip() == TOKEN
    owner = booted.run("stat", "-c", "%U:%G %a", "/var/lib/kiosk/central.token").stdout.split()
    assert owner == ["kiosk:kiosk", "600"]


def restarted_after(kiosk: container.Booted, signal_name: str, phase_name: str) -> None:
    before = ready(kiosk)
    assert before
    with phase(phase_name):
        kiosk.run("kill", f"-{signal_name}", before["MainPID"])
        after = kiosk.wait_for(
            f"kiosk.service back after SIG{signal_name}",
            lambda: (s := ready(kiosk)) and s["MainPID"] != before["MainPID"] and s, timeout=180)
    assert int(after["NRestarts"]) > int(before["NRestarts"])


def test_a_hung_ui_is_restarted_by_the_watchdog(booted):
    restarted_after(booted, "STOP", "hung UI (SIGSTOP) to a new READY kiosk")
    watchdog = booted.journal("kiosk.service", lines=200)
    assert "Watchdog timeout" in watchdog


def test_a_crash_is_restarted(booted):
    restarted_after(booted, "SEGV", "crash (SIGSEGV) to a new READY kiosk")


def test_doctor_runs_on_the_installed_kiosk(booted):
    with phase("kiosk doctor"):
        doctor = booted.run("runuser", "-u", "kiosk", "--", "kiosk", "doctor", check=False,
                            timeout=180)
    (OUT / "system-test-doctor.txt").write_text(
        f"$ kiosk doctor (exit {doctor.returncode})\n{doctor.stdout}{doctor.stderr}")
    assert doctor.stdout.strip(), doctor.stderr


def test_batches_reach_a_kiosk_installed_with_setup_sh(booted):
    """No RAUC here: the nightly pull and the USB helper are still on for e-book batches, and a
    pull run by hand does its batch step (no server is set) while the system-update steps say
    there is nothing for them."""
    for unit in ("kiosk-pull.timer", "kiosk-media.socket"):
        assert booted.show(unit, "ActiveState")["ActiveState"] == "active", unit
    with phase("systemctl start kiosk-pull (no server, no RAUC)"):
        booted.run("systemctl", "start", "kiosk-pull.service", timeout=300)
    said = booted.journal("kiosk-pull.service")
    assert "no server to pull e-book batches from" in said, said
    scanned = booted.run("runuser", "-u", "kiosk", "--", "kiosk", "media", "scan", check=False,
                         timeout=120)
    told = scanned.stdout + scanned.stderr
    (OUT / "system-test-media-scan.txt").write_text(f"$ kiosk media scan\n{told}")
    assert "kiosk-media.socket" not in told and "USB" in told, told  # the helper answered


def screenshot(kiosk: container.Booted, name: str) -> Path:
    return xwd_to_png(kiosk.path("/run/xvfb/Xvfb_screen0"), OUT / name)


def next_boot_settings(kiosk: container.Booted) -> None:
    """What a reboot does with the boot folder, without rebooting: boot-setup, then the app."""
    kiosk.run("systemctl", "restart", "kiosk-firstboot.service")
    kiosk.run("systemctl", "restart", "kiosk.service", check=False)


def test_wifi_toml_on_the_boot_folder_starts_wpa_supplicant(booted, boot_folder):
    """Without wifi.toml the Wi-Fi unit stays out of the way; with one, boot-setup renders the
    file kiosk-wifi.service starts wpa_supplicant with (the container has no wlan0 to join)."""
    assert booted.show("kiosk-wifi.service", "ConditionResult")["ConditionResult"] == "no"
    (boot_folder / "wifi.toml").write_text(
        '[wifi]\nssid = "Library Staff"\npassword = "correct horse"\ncountry = "CN"\n')
    try:
        booted.run("systemctl", "restart", "kiosk-firstboot.service")
        assert not (boot_folder / "wifi.toml").exists()
        mode = booted.run("stat", "-c", "%a %U", "/run/kiosk-boot/wpa_supplicant.conf").stdout
        assert mode.split() == ["600", "root"]
        booted.run("systemctl", "start", "kiosk-wifi.service", check=False)
        wifi = booted.show("kiosk-wifi.service", "ConditionResult", "ExecMainStartTimestamp")
        assert wifi["ConditionResult"] == "yes" and wifi["ExecMainStartTimestamp"], wifi
        assert "wlan0" in booted.journal("kiosk-wifi.service")
    finally:
        booted.run("systemctl", "stop", "kiosk-wifi.service", check=False)
        booted.run("rm", "-f", "/var/lib/kiosk/wifi.toml", "/run/kiosk-boot/wpa_supplicant.conf",
                   "/run/systemd/network/60-kiosk-wifi.network")


def test_a_bad_kiosk_toml_on_the_boot_folder_shows_out_of_service(booted, boot_folder):
    bad = boot_folder / "kiosk.toml"
    good = bad.read_text()
    bad.write_text(good + "[idle]\ntimeout_s = 1\n")
    try:
        with phase("bad kiosk.toml to out of service on screen"):
            next_boot_settings(booted)
            state = booted.wait_for(
                "kiosk.service out of service, saying why",
                lambda: (s := ready(booted)) and "timeout_s" in s["StatusText"] and s,
                timeout=120)
        assert state["StatusText"].lower().startswith("out of service")
        time.sleep(2)  # the frame after READY; a screenshot for people, asserted on no further
        screenshot(booted, "system-test-bad-kiosk-toml.png")
        assert bad.exists(), "a bad file stays on the boot folder for the technician to fix"
    finally:
        bad.write_text(good)
        next_boot_settings(booted)
    booted.wait_for("kiosk.service in service again",
                    lambda: (s := ready(booted)) and "timeout_s" not in s["StatusText"],
                    timeout=120)


def test_a_crash_loop_ends_out_of_service_not_in_a_reboot_loop(booted):
    drop_in = booted.path("/run/systemd/system/kiosk.service.d/99-crash-loop.conf")
    drop_in.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FILES / "crash-loop.conf", drop_in)
    try:
        with phase("crash loop to kiosk-out-of-service on screen"):
            booted.run("systemctl", "daemon-reload")
            booted.run("systemctl", "restart", "kiosk.service", check=False)
            booted.wait_for("kiosk.service failed at its start limit",
                            lambda: booted.show("kiosk.service", "ActiveState")["ActiveState"]
                            == "failed", timeout=180)
            booted.wait_for("kiosk-out-of-service.service running",
                            lambda: booted.show("kiosk-out-of-service.service", "ActiveState",
                                                "SubState") == {"ActiveState": "active",
                                                                "SubState": "running"},
                            timeout=60)
        result = booted.show("kiosk.service", "Result", "NRestarts")
        assert result["Result"] in ("start-limit-hit", "exit-code"), result
        assert booted.run("systemctl", "is-system-running", check=False).stdout.strip() != \
            "stopping", "no reboot"
        time.sleep(3)  # the out-of-service screen's first frame, for the screenshot only
        screenshot(booted, "system-test-crash-loop-out-of-service.png")
    finally:
        drop_in.unlink()
        booted.run("systemctl", "daemon-reload")
    booted.run("systemctl", "reset-failed", "kiosk.service")
    booted.run("systemctl", "start", "kiosk.service")
    assert booted.show("kiosk-out-of-service.service", "ActiveState")["ActiveState"] != "active"


def test_an_upgrade_in_place_restarts_the_running_kiosk(booted):
    """./setup.sh install on the running system: systemd reloaded, sshd's configuration tested
    and reloaded, the kiosk restarted on the new code, in service again."""
    before = booted.wait_for("kiosk.service in service", lambda: ready(booted), timeout=60)
    with phase("./setup.sh install on the running kiosk (upgrade in place)"):
        upgrade = booted.run(f"{SRC}/setup.sh", "install", "--wheels", WHEELS, check=False,
                             timeout=600)
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        after = booted.wait_for("kiosk.service back after the upgrade",
                                lambda: (s := ready(booted)) and s["MainPID"] != before["MainPID"]
                                and s, timeout=120)
    assert "error" not in upgrade.stderr.lower(), upgrade.stderr
    assert after["StatusText"] == before["StatusText"]


def test_sshd_keeps_its_host_key_while_uninstall_and_install_move_it(booted, debian_host_key):
    """A PC's sshd, running: uninstall gives it /etc/ssh's keys back, install moves them to
    /data/ssh again; each time sshd is reloaded and accepts a key login with the same host key."""
    assert ssh_login(booted, debian_host_key).stdout.strip() == "logged-in"
    with phase("./setup.sh uninstall and install on the running kiosk, logging in over SSH"):
        gone = booted.run(f"{SRC}/setup.sh", "uninstall", check=False, timeout=300)
        assert gone.returncode == 0, gone.stdout + gone.stderr
        assert booted.path("/etc/ssh/" + HOST_KEY).read_text() == debian_host_key
        back_in_etc = ssh_login(booted, debian_host_key)
        again = booted.run(f"{SRC}/setup.sh", "install", "--wheels", WHEELS, check=False,
                           timeout=600)
        assert again.returncode == 0, again.stdout + again.stderr
        in_data = ssh_login(booted, debian_host_key)
        booted.run("systemctl", "start", "kiosk.service")
        booted.wait_for("kiosk.service in service again", lambda: ready(booted), timeout=120)
    assert back_in_etc.stdout.strip() == "logged-in", back_in_etc.stderr
    assert in_data.stdout.strip() == "logged-in", in_data.stderr
    assert not booted.path("/etc/ssh/" + HOST_KEY).exists()
    assert booted.path("/data/ssh/" + HOST_KEY).read_text() == debian_host_key
    assert "host key" not in again.stderr + gone.stderr, again.stderr  # sshd -t said nothing


@dataclass(frozen=True)
class DataStandIn:
    top: Path                            # on the host; the container's /data
    devices: tuple[Path, ...] = ()       # the card and the partition, bound into the container
    partition: str = ""                  # e.g. loop3p2


@pytest.fixture(scope="module")
def kioskdata(work):
    """The KIOSKDATA partition's stand-in at /data: a card image (a 48 MB ext4 labelled
    KIOSKDATA as partition 2, then room) on a loop device, its partition mounted on the host and
    bound into the container with its device nodes (systemd in a container skips fstab's device
    lines), so boot-setup grows it for real; a host folder where loop devices are not there."""
    top = work / "kioskdata"
    top.mkdir()
    if small_partition.why_not() is not None:
        yield DataStandIn(top)
        return
    image = work / "card.img"
    subprocess.run(["truncate", "-s", "64M", str(image)], check=True)
    subprocess.run(["sfdisk", "-q", str(image)], input="label: dos\n,8M,c\n,48M,83\n",
                   text=True, check=True)
    subprocess.run(["truncate", "-s", "128M", str(image)], check=True)
    disk = Path(subprocess.run(["losetup", "-f", "--show", "-P", str(image)], capture_output=True,
                               text=True, check=True).stdout.strip())
    try:
        subprocess.run(["partx", "-a", str(disk)], capture_output=True, check=False)
        partition = Path(f"{disk}p2")
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-L", "KIOSKDATA", str(partition)],
                       check=True)
        subprocess.run(["mount", str(partition), str(top)], check=True)
        try:
            yield DataStandIn(top, (disk, partition), partition.name)
        finally:
            subprocess.run(["umount", str(top)], check=False)
    finally:
        subprocess.run(["losetup", "-d", str(disk)], check=False)


def boot_read_only(tree: Path, work: Path, data: DataStandIn, boot_folder: Path,
                   name: str) -> container.Booted:
    binds = {boot_folder: "/boot/firmware", data.top: "/data"}
    binds.update({device: str(device) for device in data.devices})
    kiosk = container.boot(tree, binds, work / f"console-{name}.log", read_only=True)
    try:
        kiosk.wait_for("kiosk.service active on a read-only root", lambda: ready(kiosk),
                       timeout=120)
    except BaseException:
        keep_journal(kiosk, name)
        kiosk.stop()
        raise
    return kiosk


def test_the_kiosk_runs_on_a_read_only_root(booted, tree, wheels, work, kioskdata):
    data, top = kioskdata, kioskdata.top
    keep_journal(booted, "first-boot")
    booted.stop()
    with phase("./setup.sh install --read-only-root --data-partition yes"):
        done = install(tree, wheels, "--read-only-root", "--data-partition", "yes")
    assert done.returncode == 0, done.stdout + done.stderr
    boot_folder = work / "boot-firmware-ro"
    boot_folder.mkdir()
    authorize(boot_folder, tree)
    assert sorted(p.name for p in top.iterdir()) in ([], ["lost+found"])  # as flashed
    with phase("read-only boot with a fresh KIOSKDATA: nspawn start to kiosk.service READY"):
        kiosk = boot_read_only(tree, work, data, boot_folder, "read-only-root")
    try:
        mounts = kiosk.run("findmnt", "-rn", "-o", "TARGET,FSTYPE,OPTIONS,FSROOT").stdout
        failed = kiosk.run("systemctl", "--failed", "--no-legend", "--plain").stdout
        layout = kiosk.run("stat", "-c", "%n %U:%G %a", "/data", "/data/kiosk", "/data/ssh",
                           "/data/rauc").stdout.splitlines()
        host_key = kiosk.path("/data/ssh/" + HOST_KEY).read_text()
        login = ssh_login(kiosk, host_key)
        report = json.loads(kiosk.path("/run/kiosk-boot/report.json").read_text())
        doctor = kiosk.run("runuser", "-u", "kiosk", "--", "kiosk", "doctor", check=False,
                           timeout=180).stdout
        (OUT / "system-test-doctor-kioskdata.txt").write_text(doctor)
    finally:
        keep_journal(kiosk, "read-only-root")
        kiosk.stop()
    targets = {line.split()[0]: line.split() for line in mounts.splitlines()}
    assert "ro" in targets["/"][2].split(",")
    for tmpfs in ("/tmp", "/var/log", "/var/tmp", "/var/lib/systemd"):
        assert targets[tmpfs][1] == "tmpfs", mounts
    # /data/kiosk bound at /var/lib/kiosk: the same file system, its folder kiosk/.
    assert targets["/var/lib/kiosk"][3].endswith("/kiosk"), mounts
    assert layout == ["/data root:root 755", "/data/kiosk kiosk:kiosk 700",
                      "/data/ssh root:root 700", "/data/rauc root:root 755"]
    assert (top / "kiosk/journal.sqlite3").exists(), "the journal is on the partition"
    assert "kiosk" not in failed, failed
    # This kiosk's own keys, made at this first boot (the tree's went to the root's /data/ssh).
    assert sorted(p.name for p in (top / "ssh").iterdir()) == [
        "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key",
        "ssh_host_rsa_key.pub"]
    assert host_key != (tree / "data/ssh" / HOST_KEY).read_text()
    assert login.stdout.strip() == "logged-in", login.stderr
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", str(top / "ssh" / HOST_KEY)],
                                 capture_output=True, text=True, check=True).stdout.split()[1]
    assert f"ED25519 {fingerprint}" in report["facts"]["ssh_host_keys"]
    assert report["facts"]["data_partition"]  # boot-setup looked at /data's file system
    if data.partition:  # grown to the end of the card; the file system too where allowed
        block = Path("/sys/class/block")
        start, size = (int((block / data.partition / name).read_text())
                       for name in ("start", "size"))
        card = int((block / data.devices[0].name / "size").read_text())
        assert size > 48 * 2048 and card - (start + size) <= 2048, (start, size, card)
        assert report["facts"]["data_partition"].startswith(f"/dev/{data.partition}, ")
        if not (top / ".grown").exists():  # resize2fs online needs CAP_SYS_RESOURCE
            assert "cannot grow the file system" in report["facts"][
                "data_partition_not_grown"], report
    assert re.search(r"^ok +ssh +host keys: ED25519 " + re.escape(fingerprint), doctor, re.M), \
        doctor
    assert re.search(r"^ok +data +/data is .*, /var/lib/kiosk is its folder kiosk/ \(bind "
                     r"mount\)", doctor, re.M), doctor
    keys = {p.name: p.read_bytes() for p in (top / "ssh").iterdir()}
    with phase("read-only reboot: nspawn start to kiosk.service READY"):
        kiosk = boot_read_only(tree, work, data, boot_folder, "read-only-reboot")
    try:
        again = ssh_login(kiosk, host_key)
    finally:
        keep_journal(kiosk, "read-only-reboot")
        kiosk.stop()
    assert again.stdout.strip() == "logged-in", again.stderr
    assert {p.name: p.read_bytes() for p in (top / "ssh").iterdir()} == keys
    with phase("./setup.sh install --read-write-root"):
        back = install(tree, wheels, "--read-write-root")
    assert back.returncode == 0 and "kiosk read-only root" not in (tree / "etc/fstab").read_text()


def test_uninstall_keeps_data_and_config_and_purge_does_not(tree, booted, debian_host_key):
    booted.stop()  # nspawn will not run a second container in a tree that one has booted
    with phase("./setup.sh uninstall, then --purge"):
        kept = container.nspawn_run(tree, [f"{SRC}/setup.sh", "uninstall"], {ROOT: SRC})
        assert kept.returncode == 0, kept.stdout + kept.stderr
        assert not (tree / "opt/kiosk").exists()
        assert not (tree / "usr/local/bin/kiosk").is_symlink()
        assert not (tree / "etc/systemd/system/kiosk.service").exists()
        assert not (tree / "etc/systemd/system/getty@tty1.service").exists()
        assert not (tree / "etc/systemd/system/ctrl-alt-del.target").exists()
        assert (tree / "etc/kiosk/kiosk.toml").exists() and (tree / "var/lib/kiosk").is_dir()
        # sshd's keys back where Debian's sshd reads them; /data kept.
        assert (tree / "etc/ssh" / HOST_KEY).read_text() == debian_host_key
        assert (tree / "data/ssh" / HOST_KEY).exists()
        fstab = (tree / "etc/fstab").read_text()
        assert "LABEL=KIOSKDATA /data " in fstab and "/data/kiosk " not in fstab
        purged = container.nspawn_run(tree, [f"{SRC}/setup.sh", "uninstall", "--purge"],
                                      {ROOT: SRC})
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert not (tree / "etc/kiosk").exists() and not (tree / "var/lib/kiosk").exists()
    assert not (tree / "data").exists() and "KIOSKDATA" not in (tree / "etc/fstab").read_text()
    assert (tree / "etc/ssh" / HOST_KEY).read_text() == debian_host_key
    assert "kiosk:" not in (tree / "etc/passwd").read_text()
