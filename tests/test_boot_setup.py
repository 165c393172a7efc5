"""`kiosk boot-setup`: the boot folder's files applied, every output in a temporary folder.

The real command runs too, as root in its own mount and UTS namespaces (tmpfs over /run, its own
hostname), so nothing of this machine is changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import re
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from content.signing import keygen
from kiosk import boot_report
from kiosk.boot_report import BootProblem
from kiosk.bootsetup import ssh_keys, wifi
from kiosk.bootsetup.boot_folder import BootFileError
from kiosk.bootsetup.paths import BootPaths
from kiosk.bootsetup.run import run
from kiosk.commands import CommandResult
from kiosk.config import load_files
from kiosk.errors import ConfigError
from kiosk.ui.notice import settings_notice
from tests.conftest import ROOT

TOKEN = "k-7Qx2pLr9ZtW4vN8sYb3Jd6Hf1Mc5Ga0E"
OWNER = "nobody"  # a user every Debian has, standing in for kiosk


class Machine:
    """The hostname and commands boot-setup would change, recorded instead."""

    def __init__(self, hostname: str = "localhost") -> None:
        self.hostname = hostname
        self.commands: list[list[str]] = []

    def set_name(self, name: str) -> None:
        self.hostname = name

    def runner(self, argv, *, input=None) -> CommandResult:
        self.commands.append(list(argv))
        return CommandResult(0)


@pytest.fixture
def box(tmp_path):
    """A machine in a folder: boot/, etc/, data/, run/; a base config naming data/."""
    for name in ("boot", "etc", "data", "run"):
        (tmp_path / name).mkdir()
    (tmp_path / "etc" / "kiosk.toml").write_text(
        f'[kiosk]\nid = "lib-lobby-1"\ndata_dir = "{tmp_path / "data"}"\n')
    (tmp_path / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n")
    return tmp_path


def paths_in(box: Path, **changes) -> BootPaths:
    run_dir = box / "run"
    return BootPaths(boot_dirs=(box / "boot",), base_config=box / "etc" / "kiosk.toml",
                     report=run_dir / "kiosk-boot" / "report.json",
                     wpa_conf=run_dir / "kiosk-boot" / "wpa_supplicant.conf",
                     wifi_network=run_dir / "systemd" / "network" / "60-kiosk-wifi.network",
                     authorized_keys_dir=run_dir / "kiosk-boot" / "authorized_keys",
                     timesyncd_dropin=run_dir / "systemd" / "timesyncd.conf.d" / "60-kiosk.conf",
                     etc_hostname=box / "etc" / "hostname", etc_hosts=box / "etc" / "hosts",
                     data_mount=box / "data", systemd_marker=run_dir / "systemd" / "system",
                     kiosk_user=OWNER, **changes)


def boot(box: Path, machine: Machine | None = None, *, root_writable: bool = True, **changes):
    machine = machine or Machine()
    return run(paths_in(box, **changes), root_writable=root_writable, runner=machine.runner,
               set_hostname=machine.set_name, current_hostname=lambda: machine.hostname)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def owner_ids() -> tuple[int, int]:
    entry = pwd.getpwnam(OWNER)
    return entry.pw_uid, entry.pw_gid


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give files away")


# --- central.token ---------------------------------------------------------------------------

@needs_root
def test_token_is_moved_to_the_data_folder_private_to_the_kiosk_user(box, caplog):
    (box / "boot" / "central.token").write_bytes(b"\xef\xbb\xbf" + TOKEN.encode() + b"\r\n")
    caplog.set_level("INFO")
    report = boot(box)
    stored = box / "data" / "central.token"
    assert stored.read_text() == TOKEN + "\n"
    assert mode(stored) == 0o600 and (stored.stat().st_uid, stored.stat().st_gid) == owner_ids()
    assert not (box / "boot" / "central.token").exists()
    assert report.ok and any("token installed" in line for line in report.applied)
    assert TOKEN not in caplog.text and TOKEN not in json.dumps(report.applied)


def test_a_new_token_on_the_card_replaces_the_old_one_and_says_so(box):
    (box / "data" / "central.token").write_text("old-token-0123456789\n")
    (box / "boot" / "central.token").write_text(TOKEN)
    report = boot(box)
    assert (box / "data" / "central.token").read_text() == TOKEN + "\n"
    assert any("replaced" in line and "no longer used" in line for line in report.applied)


@pytest.mark.parametrize("content, why", [
    (b"", "empty"),
    (b"short-token\n", "characters"),
    (TOKEN.encode() + b"\n" + TOKEN.encode() + b"\n", "2 lines"),
    (b"Bearer " + TOKEN.encode(), "spaces"),
    (TOKEN.encode("utf-16"), "UTF-8"),
])
def test_a_bad_token_stays_on_the_card_untouched_and_is_a_problem(box, content, why):
    card = box / "boot" / "central.token"
    card.write_bytes(content)
    report = boot(box)
    assert card.read_bytes() == content
    assert not (box / "data" / "central.token").exists()
    assert [p.file for p in report.problems] == ["central.token"]
    assert why in report.problems[0].message and TOKEN not in report.problems[0].message


def test_a_token_that_cannot_be_stored_stays_on_the_card(box):
    (box / "blocker").write_text("a file where a folder should be")
    with open(box / "etc" / "kiosk.toml", "a") as f:
        f.write(f'[central]\ntoken_path = "{box / "blocker" / "central.token"}"\n')
    (box / "boot" / "central.token").write_text(TOKEN)
    report = boot(box)
    assert (box / "boot" / "central.token").read_text() == TOKEN
    assert "cannot store it" in report.problems[0].message


# --- content-signing.pub -----------------------------------------------------------------------

@pytest.fixture
def library_key(tmp_path_factory):
    """The library's batch-signing key pair, as staff make it on their PC."""
    folder = tmp_path_factory.mktemp("keys")
    keygen(folder / "library.key", folder / "content-signing.pub")
    return folder / "content-signing.pub"


@needs_root
def test_the_librarys_public_key_is_installed_for_the_kiosk_user_and_stays_on_the_card(
        box, library_key):
    card = box / "boot" / "content-signing.pub"
    card.write_bytes(b"\xef\xbb\xbf" + library_key.read_bytes().replace(b"\n", b"\r\n"))
    report = boot(box)
    stored = box / "data" / "content-signing.pub"
    assert stored.read_bytes() == library_key.read_bytes()
    assert mode(stored) == 0o644 and (stored.stat().st_uid, stored.stat().st_gid) == owner_ids()
    assert card.exists(), "a public key is no secret: it stays for the technician to see"
    assert report.ok and any("e-book batch signing key installed" in line
                             for line in report.applied), report.applied
    again = boot(box)  # every boot: the same key changes nothing
    assert again.ok and not any("signing key" in line for line in again.applied), again.applied


def test_a_new_public_key_on_the_card_replaces_the_old_one_and_says_so(box, library_key,
                                                                        tmp_path):
    keygen(tmp_path / "old.key", tmp_path / "old.pub")
    (box / "data" / "content-signing.pub").write_bytes((tmp_path / "old.pub").read_bytes())
    shutil.copy(library_key, box / "boot" / "content-signing.pub")
    report = boot(box)
    assert (box / "data" / "content-signing.pub").read_bytes() == library_key.read_bytes()
    assert any("replaced" in line for line in report.applied), report.applied


@pytest.mark.parametrize("content, why", [
    (b"", "not a public key"),
    (b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
     "private key"),
    (b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA technician@pc\n", "not a public key"),
])
def test_a_bad_public_key_is_a_problem_and_the_installed_one_is_kept(box, library_key,
                                                                     content, why):
    installed = box / "data" / "content-signing.pub"
    shutil.copy(library_key, installed)
    (box / "boot" / "content-signing.pub").write_bytes(content)
    report = boot(box)
    assert installed.read_bytes() == library_key.read_bytes()
    assert [p.file for p in report.problems] == ["content-signing.pub"], report.problems
    assert why in report.problems[0].message, report.problems[0].message


# --- wifi.toml -------------------------------------------------------------------------------

def toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string here


HARD_SSIDS = ['Library "Guest"', "back\\slash\\", "图书馆-二楼", "new\nline\n network={", "x"]
HARD_PASSWORDS = ['pa"ss word"}', "back\\slash\\\\x", "图书馆的密码", "a" * 63, "12345678"]


@pytest.mark.parametrize("ssid, password", list(zip(HARD_SSIDS, HARD_PASSWORDS)))
def test_wifi_values_cannot_reach_the_config_as_text(box, ssid, password):
    (box / "boot" / "wifi.toml").write_text(
        f"[wifi]\nssid = {toml_string(ssid)}\npassword = {toml_string(password)}\n"
        'country = "CN"\n', encoding="utf-8")
    report = boot(box)
    assert report.ok, report.problems
    conf = (box / "run" / "kiosk-boot" / "wpa_supplicant.conf").read_text()
    settings = dict(re.findall(r"^\t(\w+)=(.*)$", conf, re.M))
    body = [line for line in conf.splitlines() if line and not line.startswith("#")]
    assert body == ["ctrl_interface=DIR=/run/wpa_supplicant GROUP=root", "country=CN",
                    "network={", f"\tssid={settings['ssid']}", "\tscan_ssid=1",
                    "\tkey_mgmt=WPA-PSK WPA-PSK-SHA256", "\tieee80211w=1",
                    f"\tpsk={settings['psk']}", "}"]
    assert bytes.fromhex(settings["ssid"]).decode("utf-8") == ssid
    assert settings["psk"] == hashlib.pbkdf2_hmac("sha1", password.encode(), ssid.encode(),
                                                  4096, 32).hex()
    assert password not in conf
    assert mode(box / "run" / "kiosk-boot" / "wpa_supplicant.conf") == 0o600
    stored = box / "data" / "wifi.toml"
    assert mode(stored) == 0o600 and stored.stat().st_uid == 0
    assert tomllib.loads(stored.read_text(encoding="utf-8"))["wifi"] == {
        "ssid": ssid, "password": password, "country": "CN"}
    assert not (box / "boot" / "wifi.toml").exists()
    network = (box / "run" / "systemd" / "network" / "60-kiosk-wifi.network").read_text()
    assert "Name=wlan*" in network and "DHCP=yes" in network and ssid not in network


def test_networkd_is_told_when_its_file_changes_under_systemd(box):
    (box / "run" / "systemd" / "system").mkdir(parents=True)  # systemd runs
    (box / "boot" / "wifi.toml").write_text('[wifi]\nssid = "L"\npassword = "long enough"\n'
                                            'country = "CN"\n')
    machine = Machine()
    boot(box, machine)
    assert machine.commands == [["networkctl", "reload"]]
    boot(box, machine)
    assert machine.commands == [["networkctl", "reload"]]  # nothing changed
    (box / "boot" / "wifi.toml").write_text('[wifi]\nssid = ""\npassword = ""\ncountry = "CN"\n')
    boot(box, machine)
    assert machine.commands == [["networkctl", "reload"]] * 2


def test_psk_is_the_ieee_802_11i_test_vector():
    assert wifi.psk("IEEE", "password") == (
        "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e")


def test_an_open_network_has_no_key(box):
    (box / "boot" / "wifi.toml").write_text('[wifi]\nssid = "Open"\npassword = ""\n'
                                            'country = "CN"\n')
    boot(box)
    conf = (box / "run" / "kiosk-boot" / "wpa_supplicant.conf").read_text()
    assert "\tkey_mgmt=NONE" in conf and "psk" not in conf


@pytest.mark.parametrize("text, why", [
    ('[wifi]\nssid = "L"\npassword = "line\\nbreak!"\ncountry = "CN"\n', "line break"),
    ('[wifi]\nssid = "L"\npassword = "short"\ncountry = "CN"\n', "8 to 63"),
    ('[wifi]\nssid = "L"\npassword = "' + "x" * 64 + '"\ncountry = "CN"\n', "8 to 63"),
    ('[wifi]\nssid = "L"\npassword = "long enough"\ncountry = "cn"\n', "two capital"),
    ('[wifi]\nssid = "L"\ncountry = "CN"\n', "'password' is missing"),
    ('[wifi]\nssid = "L"\npassword = "long enough"\ncountry = "CN"\nchannel = 6\n', "unknown"),
    ('[wifi]\nssid = "' + "图" * 11 + '"\npassword = "long enough"\ncountry = "CN"\n', "32 bytes"),
    ('ssid = "L"\n', "one section"),
    ('[wifi]\nssid = "L\npassword = "x"\n', "not valid TOML"),
])
def test_a_bad_wifi_file_stays_and_the_stored_settings_stay_in_use(box, text, why):
    (box / "boot" / "wifi.toml").write_text('[wifi]\nssid = "Before"\npassword = "old password"\n'
                                            'country = "CN"\n')
    boot(box)
    card = box / "boot" / "wifi.toml"
    card.write_text(text, encoding="utf-8")
    report = boot(box)
    assert card.read_text(encoding="utf-8") == text
    assert [p.file for p in report.problems] == ["wifi.toml"]
    assert why in report.problems[0].message
    assert "old password" not in report.problems[0].message
    conf = (box / "run" / "kiosk-boot" / "wpa_supplicant.conf").read_text()
    assert f"ssid={'Before'.encode().hex()}" in conf


def test_stored_wifi_is_rendered_at_every_boot_and_an_empty_ssid_forgets_it(box):
    (box / "boot" / "wifi.toml").write_text('[wifi]\nssid = "L"\npassword = "long enough"\n'
                                            'country = "CN"\n')
    boot(box)
    shutil.rmtree(box / "run")  # a reboot empties /run
    (box / "run").mkdir()
    assert boot(box).ok
    conf = box / "run" / "kiosk-boot" / "wpa_supplicant.conf"
    assert conf.is_file()
    (box / "boot" / "wifi.toml").write_text('[wifi]\nssid = ""\npassword = ""\ncountry = "CN"\n')
    report = boot(box)
    assert not conf.exists() and not (box / "data" / "wifi.toml").exists()
    assert not (box / "boot" / "wifi.toml").exists()
    assert any("forgotten" in line for line in report.applied)


def test_damaged_stored_wifi_is_a_problem(box):
    (box / "data" / "wifi.toml").write_text("[wifi]\nssid = ")
    report = boot(box)
    assert report.problems[0].file == "wifi.toml"
    assert "put a new wifi.toml" in report.problems[0].message


# --- authorized_keys -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_keys(tmp_path_factory) -> dict[str, str]:
    """Public key lines made by ssh-keygen, by type."""
    if not shutil.which("ssh-keygen"):
        pytest.skip("needs ssh-keygen")
    folder = tmp_path_factory.mktemp("keys")
    keys = {}
    for kind, extra in (("ed25519", []), ("rsa", ["-b", "2048"]), ("ecdsa", ["-b", "384"])):
        subprocess.run(["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C",
                        f"tech-{kind}@library", "-f", str(folder / kind)], check=True)
        keys[kind] = (folder / f"{kind}.pub").read_text().strip()
    return keys


def test_good_key_lines_are_installed_and_bad_ones_named_by_line(box, real_keys):
    ed_type, ed_body, _ = real_keys["ed25519"].split(" ", 2)
    lines = ["# technicians", "", real_keys["ed25519"], real_keys["rsa"], real_keys["ecdsa"],
             f'from="10.0.0.0/8" {real_keys["ed25519"]}',   # 6: options
             f"ssh-rsa {ed_body} wrong type",                # 7: type mismatch
             f"{ed_type} {ed_body[:-8]}",                    # 8: cut short
             "ssh-dss AAAAB3NzaC1kc3MAAACBAP",               # 9: DSA
             "hello world"]                                  # 10: not a key
    card = box / "boot" / "authorized_keys"
    card.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    report = boot(box)
    installed = box / "run" / "kiosk-boot" / "authorized_keys" / "root"
    keys = [line for line in installed.read_text().splitlines() if not line.startswith("#")]
    assert keys == [real_keys["ed25519"], real_keys["rsa"], real_keys["ecdsa"]]
    assert mode(installed) == 0o644 and mode(installed.parent) == 0o755
    assert card.exists()  # the card says who may log in
    messages = {p.message.split(":")[0]: p.message for p in report.problems}
    assert set(messages) == {"line 6", "line 7", "line 8", "line 9", "line 10"}
    assert "options" in messages["line 6"] and "another type" in messages["line 7"]
    assert "DSA" in messages["line 9"] and "unknown key type" in messages["line 10"]


def test_keys_are_removed_when_the_card_has_none(box, real_keys):
    (box / "boot" / "authorized_keys").write_text(real_keys["ed25519"] + "\n")
    boot(box)
    installed = box / "run" / "kiosk-boot" / "authorized_keys" / "root"
    assert installed.is_file()
    (box / "boot" / "authorized_keys").unlink()
    report = boot(box)
    assert not installed.exists() and any("SSH keys removed" in a for a in report.applied)


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


@pytest.mark.parametrize("blob, why", [
    (ssh_string(b"ssh-ed25519") + ssh_string(b"\0" * 31), "damaged"),
    (ssh_string(b"ssh-ed25519") + ssh_string(b"\0" * 32) + b"\0\0", "damaged"),
    (ssh_string(b"ecdsa-sha2-nistp256") + ssh_string(b"nistp384") + ssh_string(b"\4" * 97),
     "another curve"),
    (ssh_string(b"ssh-rsa") + ssh_string(b"\1\0\1") + ssh_string(b"\xff" * 128), "2048"),
])
def test_key_bodies_are_checked_not_only_decoded(blob, why):
    key_type = blob[4:4 + struct.unpack(">I", blob[:4])[0]].decode()
    with pytest.raises(BootFileError, match=why):
        ssh_keys.check_line(f"{key_type} {base64.b64encode(blob).decode()}")


def test_a_security_key_line_is_accepted():
    blob = (ssh_string(b"sk-ssh-ed25519@openssh.com") + ssh_string(b"\7" * 32)
            + ssh_string(b"ssh:"))
    line = f"sk-ssh-ed25519@openssh.com {base64.b64encode(blob).decode()} yubikey"
    assert ssh_keys.check_line(line) == line


# --- hostname and time servers ---------------------------------------------------------------

def test_hostname_is_the_kiosk_id_and_etc_follows_when_the_root_is_writable(box):
    machine = Machine("debian")
    report = boot(box, machine)
    assert machine.hostname == "lib-lobby-1"
    assert (box / "etc" / "hostname").read_text() == "lib-lobby-1\n"
    assert (box / "etc" / "hosts").read_text() == "127.0.0.1\tlocalhost\n127.0.1.1\tlib-lobby-1\n"
    assert report.facts["hostname"] == "lib-lobby-1"
    again = boot(box, machine)
    assert not [a for a in again.applied if "hostname" in a or "hosts" in a]


def test_a_read_only_root_keeps_etc_as_it_is(box):
    machine = Machine("debian")
    report = boot(box, machine, root_writable=False)
    assert machine.hostname == "lib-lobby-1"
    assert not (box / "etc" / "hostname").exists()
    assert "127.0.1.1\tdebian" in (box / "etc" / "hosts").read_text()
    assert report.facts["root_fs"] == "read-only"


def test_time_servers_go_to_a_timesyncd_drop_in_and_go_away_when_unset(box):
    (box / "boot" / "kiosk.toml").write_text('[time]\nntp_servers = "ntp.lib.cn,10.1.2.3"\n')
    (box / "run" / "systemd" / "system").mkdir(parents=True)  # systemd runs
    machine = Machine()
    boot(box, machine)
    dropin = box / "run" / "systemd" / "timesyncd.conf.d" / "60-kiosk.conf"
    lines = [line for line in dropin.read_text().splitlines() if not line.startswith("#")]
    assert lines == ["[Time]", "NTP=ntp.lib.cn 10.1.2.3"]
    assert machine.commands == [["systemctl", "try-restart", "systemd-timesyncd.service"]]
    boot(box, machine)
    assert len(machine.commands) == 1  # unchanged: timesyncd left alone
    (box / "boot" / "kiosk.toml").unlink()
    report = boot(box, machine)
    assert not dropin.exists() and len(machine.commands) == 2
    assert report.facts["ntp_servers"] == "the system's defaults"


def test_without_systemd_timesyncd_is_not_restarted(box):
    (box / "boot" / "kiosk.toml").write_text('[time]\nntp_servers = "ntp.lib.cn"\n')
    machine = Machine()
    boot(box, machine)
    assert machine.commands == []


# --- kiosk.toml and the report ---------------------------------------------------------------

def test_a_bad_kiosk_toml_is_a_problem_and_the_base_config_is_used(box):
    card = box / "boot" / "kiosk.toml"
    card.write_text('[kiosk]\nid = "Lobby One"\n')
    (box / "boot" / "central.token").write_text(TOKEN)
    machine = Machine()
    report = boot(box, machine)
    assert [p.file for p in report.problems] == ["kiosk.toml"]
    assert "option 'id'" in report.problems[0].message
    # Word for word what `kiosk run` finds itself, so the notice on screen shows it once.
    with pytest.raises(ConfigError) as app_finds:
        load_files([card])
    app_finds = BootProblem("", str(app_finds.value))
    assert len(settings_notice([app_finds, *report.problems]).details) == 1
    assert card.read_text() == '[kiosk]\nid = "Lobby One"\n'
    assert machine.hostname == "lib-lobby-1"  # the base config's id
    assert (box / "data" / "central.token").read_text() == TOKEN + "\n"


def test_a_good_kiosk_toml_overrides_the_base_key_by_key(box):
    (box / "boot" / "kiosk.toml").write_text('[kiosk]\nid = "lib-floor-2"\n')
    machine = Machine()
    assert boot(box, machine).ok
    assert machine.hostname == "lib-floor-2"


def test_a_missing_boot_folder_is_no_problem(box):
    shutil.rmtree(box / "boot")
    report = boot(box)
    assert report.ok and report.boot_dir == ""


def test_a_failing_step_does_not_stop_the_others(box, monkeypatch):
    from kiosk.bootsetup import ssh_keys as keys_module

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(keys_module, "install", broken)
    (box / "boot" / "central.token").write_text(TOKEN)
    machine = Machine()
    report = boot(box, machine)
    assert [p.file for p in report.problems] == ["authorized_keys"]
    assert machine.hostname == "lib-lobby-1"
    assert (box / "data" / "central.token").exists()


# --- the command, for real -------------------------------------------------------------------

def in_namespaces(script: str) -> subprocess.CompletedProcess:
    """Run `script` as root in new mount and UTS namespaces with a fresh /run."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to run boot-setup without touching this machine")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(["unshare", "--mount", "--uts", "--propagation", "private", "sh",
                           "-ec", "mount -t tmpfs tmpfs /run\n" + script], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_command_applies_the_card_and_writes_the_report(box):
    (box / "boot" / "central.token").write_text(TOKEN)
    (box / "boot" / "wifi.toml").write_text('[wifi]\nssid = "L"\npassword = "short"\n'
                                            'country = "CN"\n')
    done = in_namespaces(
        f"{sys.executable} -m kiosk boot-setup --config {box / 'etc' / 'kiosk.toml'} "
        f"--boot-dir {box / 'boot'} --root-fs-writable no\n"
        "echo rc=$?\nhostname\ncat /run/kiosk-boot/report.json\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "rc=0" in out and "\nlib-lobby-1\n" in out
    report = json.loads(out[out.index("{"):])
    assert report["problems"][0]["file"] == "wifi.toml"
    assert (box / "data" / "central.token").read_text() == TOKEN + "\n"
    assert TOKEN not in done.stderr + done.stdout
    assert "central server token installed" in done.stderr


def test_the_command_fails_only_when_the_report_cannot_be_written(box):
    (box / "blocker").write_text("")
    done = in_namespaces(
        f"{sys.executable} -m kiosk boot-setup --config {box / 'etc' / 'kiosk.toml'} "
        f"--boot-dir {box / 'boot'} --root-fs-writable no "
        f"--report {box / 'blocker' / 'report.json'} || echo rc=$?\n")
    assert "rc=1" in done.stdout
    assert "cannot write the report" in done.stderr


def test_the_report_reads_back(box):
    (box / "boot" / "wifi.toml").write_text("[wifi]\n")
    report = boot(box)
    boot_report.write(report, box / "report.json")
    assert boot_report.read(box / "report.json") == report
