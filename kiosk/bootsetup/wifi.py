"""`wifi.toml`: the library's Wi-Fi, moved off the card and turned into wpa_supplicant's config.

The card's file is checked, stored as `wifi.toml` in the data folder (root 0600, written by this
program, never copied), and deleted from the card. At every boot the stored file is checked
again and rendered to /run: wpa_supplicant's config (0600) and a systemd-networkd .network for
DHCP on wlan*. kiosk-wifi.service runs wpa_supplicant when that config exists.

No value is ever pasted into a config file as text: the SSID is written in hex (`ssid=<hex>`)
and the password only as its WPA pre-shared key (`psk=<64 hex>`, PBKDF2 as the standard
defines it), so neither quoting nor a newline can add a line, and the password itself is not
in /run at all. WPA3-only (SAE) networks need the password itself and are not supported;
WPA2 and WPA2/WPA3 mixed networks are. `ssid = ""` forgets the Wi-Fi.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.bootsetup import boot_folder, files
from kiosk.bootsetup.boot_folder import WIFI_TOML, BootFileError
from kiosk.bootsetup.outcome import Outcome

COUNTRY = re.compile(r"^[A-Z]{2}$")
KEYS = ("ssid", "password", "country")
SSID_MAX_BYTES = 32
PASSWORD_BYTES = (8, 63)  # a WPA passphrase, counted in UTF-8 bytes as wpa_supplicant does
EXAMPLE = '[wifi]\nssid = "Library"\npassword = "secret-password"\ncountry = "CN"'
NETWORK_UNIT = ("# Written by 'kiosk boot-setup' at every boot: DHCP on the Wi-Fi that "
                "kiosk-wifi.service joins.\n[Match]\nName=wlan*\n\n[Network]\nDHCP=yes\n")


@dataclass(frozen=True)
class WifiSettings:
    ssid: str
    password: str  # "" for an open network
    country: str

    def __repr__(self) -> str:  # never shows the password, in a log or a traceback
        return f"WifiSettings(ssid={self.ssid!r}, country={self.country!r})"


def parse(text: str) -> WifiSettings | None:
    """The settings, or None for `ssid = ""` (forget the Wi-Fi); raises BootFileError with what
    is wrong, never quoting the password."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BootFileError(f"not valid TOML ({e}); it should read:\n{EXAMPLE}") from None
    wifi = data.get("wifi")
    if set(data) != {"wifi"} or not isinstance(wifi, dict):
        raise BootFileError("needs one section [wifi] and nothing else; it should read:\n"
                            f"{EXAMPLE}")
    unknown = sorted(set(wifi) - set(KEYS))
    if unknown:
        raise BootFileError(f"unknown option {', '.join(unknown)} in [wifi]; allowed: "
                            + ", ".join(KEYS))
    for key in KEYS:
        if key not in wifi:
            extra = ' (password = "" for an open network)' if key == "password" else ""
            raise BootFileError(f"option '{key}' is missing in [wifi]{extra}")
        if not isinstance(wifi[key], str):
            raise BootFileError(f"option '{key}' must be text in quotes")
    ssid, password, country = wifi["ssid"], wifi["password"], wifi["country"]
    if ssid == "":
        return None
    if len(ssid.encode("utf-8")) > SSID_MAX_BYTES:
        raise BootFileError(f"ssid is longer than {SSID_MAX_BYTES} bytes (a Chinese character "
                            "counts 3): check the network's name")
    if password:
        if any(ord(c) < 32 or ord(c) == 127 for c in password):
            raise BootFileError("password holds a line break or another control character: "
                                "type it again on one line")
        low, high = PASSWORD_BYTES
        if not low <= len(password.encode("utf-8")) <= high:
            raise BootFileError(f"password must be {low} to {high} characters (a Chinese "
                                'character counts 3), or "" for an open network')
    if not COUNTRY.match(country):
        raise BootFileError('country must be two capital letters, e.g. "CN"')
    return WifiSettings(ssid, password, country)


def to_toml(settings: WifiSettings) -> str:
    """The stored copy, written by us: every value a TOML basic string with every quote,
    backslash and control character escaped."""
    return (f"# Written by 'kiosk boot-setup' from the boot folder's wifi.toml; put a new "
            f"wifi.toml on the boot folder to change it.\n[wifi]\n"
            f"ssid = {_toml_string(settings.ssid)}\n"
            f"password = {_toml_string(settings.password)}\n"
            f"country = {_toml_string(settings.country)}\n")


def _toml_string(value: str) -> str:
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def psk(ssid: str, password: str) -> str:
    """The WPA pre-shared key of a passphrase (IEEE 802.11i: PBKDF2-SHA1, 4096 rounds, the
    SSID as salt, 32 bytes), as wpa_passphrase prints it."""
    key = hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), ssid.encode("utf-8"), 4096, 32)
    return key.hex()


def render_wpa_supplicant(settings: WifiSettings) -> str:
    lines = ["# Written by 'kiosk boot-setup' at every boot from the stored wifi.toml; edits "
             "here are lost.",
             "ctrl_interface=DIR=/run/wpa_supplicant GROUP=root",
             f"country={settings.country}",
             "network={",
             f"\tssid={settings.ssid.encode('utf-8').hex()}",
             "\tscan_ssid=1"]  # hidden networks too
    if settings.password:
        lines += ["\tkey_mgmt=WPA-PSK WPA-PSK-SHA256",
                  "\tieee80211w=1",
                  f"\tpsk={psk(settings.ssid, settings.password)}"]
    else:
        lines.append("\tkey_mgmt=NONE")
    return "\n".join([*lines, "}", ""])


def apply(boot_dir: Path | None, stored: Path, wpa_conf: Path, network: Path,
          outcome: Outcome, *, reload_network: Callable[[], None] = lambda: None) -> None:
    """`reload_network` is called when the .network file changed: systemd-networkd reads its
    folders only when it starts or is told to."""
    if boot_dir is not None and (boot_dir / WIFI_TOML).is_file():
        _take_from_card(boot_dir / WIFI_TOML, stored, outcome)
    settings = _read_stored(stored, outcome)
    if settings is None:
        removed = [str(p) for p in (wpa_conf, network)
                   if files.remove_or_warn(p, outcome.warn)]
        if str(network) in removed:
            reload_network()
        if removed:
            outcome.changed(f"Wi-Fi off: removed {', '.join(removed)}")
        outcome.facts["wifi"] = "not set up"
        return
    try:
        files.make_folders(wpa_conf.parent)
        files.make_folders(network.parent)
        wrote = files.write_if_changed(wpa_conf, render_wpa_supplicant(settings).encode(),
                                       mode=0o600, owner=files.ROOT_OWNER)
        network_changed = files.write_if_changed(network, NETWORK_UNIT.encode(), mode=0o644,
                                                 owner=files.ROOT_OWNER)
    except OSError as e:
        outcome.problem(WIFI_TOML, f"cannot write the Wi-Fi config to {wpa_conf.parent}: "
                                   f"{e.strerror}")
        return
    outcome.facts["wifi"] = f"ssid {settings.ssid!r}, country {settings.country}"
    if network_changed:
        reload_network()
    if wrote or network_changed:
        outcome.changed(f"Wi-Fi: joining {settings.ssid!r} "
                        f"({'WPA' if settings.password else 'open'}"
                        f", country {settings.country}) through {wpa_conf}")


def _take_from_card(source: Path, stored: Path, outcome: Outcome) -> None:
    try:
        settings = parse(boot_folder.read_text(source))
    except BootFileError as e:
        outcome.problem(WIFI_TOML, f"{e}\nThe file is left on the boot folder; the Wi-Fi "
                                   "settings stored before (if any) stay in use.")
        return
    try:
        if settings is None:
            forgot = files.remove(stored)
        else:
            files.write_atomically(stored, to_toml(settings).encode("utf-8"), mode=0o600,
                                   owner=files.ROOT_OWNER)
    except OSError as e:
        outcome.problem(WIFI_TOML, f"cannot store it as {stored}: {e.strerror}; it is left on "
                                   "the boot folder")
        return
    try:
        files.remove(source)
    except OSError as e:
        outcome.problem(WIFI_TOML, f"stored, but cannot be deleted from the boot folder: "
                                   f"{e.strerror}; delete it by hand (it holds the password)")
        return
    if settings is None:
        outcome.changed("Wi-Fi settings " + ("forgotten" if forgot else "were not stored")
                        + ' (ssid = ""); wifi.toml deleted from the boot folder')
    else:
        outcome.changed(f"Wi-Fi settings for {settings.ssid!r} stored as {stored}; wifi.toml "
                        "deleted from the boot folder")


def _read_stored(stored: Path, outcome: Outcome) -> WifiSettings | None:
    if not stored.is_file():
        return None
    try:
        return parse(boot_folder.read_text(stored))
    except BootFileError as e:
        outcome.problem(WIFI_TOML, f"the stored Wi-Fi settings {stored} cannot be used ({e}); "
                                   "put a new wifi.toml on the boot folder")
        return None
