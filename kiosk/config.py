"""Typed configuration: TOML files read into frozen dataclasses, checked once at start.

The base file is `/etc/kiosk/kiosk.toml`; a `kiosk.toml` on the SD card's boot partition, which a
technician edits from any PC, overrides it key by key. `--config PATH` names one file instead of
both. Every problem is reported with the file, section, option and the values allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from common.marks import N_
from common.toml_options import Wording, build_section, default_of, option, read_toml
from drivers.errors import SourceError
from drivers.registry import check_source
from drivers.settings import BarcodeRules, DriverSettings, RfidSecurity, ScannerTiming
from kiosk.core.circulation_view import CirculationSettings
from kiosk.core.session_view import Settings
from kiosk.errors import ConfigError, Said
from kiosk.sip2.settings import IlsSettings
from kiosk.sound.settings import SoundSettings

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")
BOOT_OVERRIDES = (Path("/boot/firmware/kiosk.toml"), Path("/boot/kiosk.toml"))
SWITCH = ("auto", "yes", "no")  # true and false are read as "yes" and "no"
PIN_HASH_PATTERN = re.compile(r"^pbkdf2_sha256\$\d{1,10}\$[0-9a-f]{16,}\$[0-9a-f]{64}$")
# File systems any PC reads: a secret on one is not a secret (the boot partition is FAT).
PC_READABLE_FS = frozenset({"vfat", "msdos", "exfat", "fat", "ntfs", "ntfs3", "fuseblk"})
WORDING = Wording(
    error=ConfigError,
    unreadable=N_("{path}: cannot read: {reason}"),
    where=N_("{path}: option '{name}' in section [{section}]"),
    unknown=N_("{path}: unknown option '{name}' in section [{section}]; allowed: {allowed}"),
    wrong_kind=N_("{where} must be {expected} (got {value!r})"),
    kind_names={str: Said(N_("a string")), int: Said(N_("a whole number")),
                float: Said(N_("a number")), bool: Said(N_("true or false"))},
    below_min=N_("{where} must be >= {min} (got {value!r})"),
    above_max=N_("{where} must be <= {max} (got {value!r})"),
    say=Said,  # the command line shows these in the technician's language
)


LANGUAGES = default_of(Settings, "languages")


def mirrored(source: type, name: str, **checks: Any) -> Any:
    """An option that feeds field `name` of the settings dataclass `source` (the core's, mapped
    in kiosk/core_settings.py): its default is written once, there."""
    return option(default_of(source, name), mirrors=(source, name), **checks)


@dataclass(frozen=True)
class KioskSection:
    id: str = mirrored(CirculationSettings, "kiosk_id",
                       pattern=re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$"),
                       hint="lower-case letters, digits and '-'")
    library_name_zh: str = mirrored(CirculationSettings, "library_name_zh")
    library_name_en: str = mirrored(CirculationSettings, "library_name_en")
    language: str = mirrored(Settings, "language", choices=LANGUAGES)
    data_dir: str = option("/var/lib/kiosk")


@dataclass(frozen=True)
class DisplaySection:
    width: int = option(800, min=320, max=7680)
    height: int = option(480, min=240, max=4320)
    # "auto": fullscreen without a pointer on a Raspberry Pi, a window with one elsewhere.
    fullscreen: str = option("auto", choices=SWITCH)
    show_cursor: str = option("auto", choices=SWITCH)
    # Degrees clockwise the picture is turned, for a screen mounted in portrait (90 or 270).
    rotation: int = option(0, min=0, max=270)


@dataclass(frozen=True)
class IdleSection:
    timeout_s: int = mirrored(Settings, "idle_timeout_s", min=5, max=3600)
    countdown_s: int = mirrored(Settings, "countdown_s", min=3, max=300)


@dataclass(frozen=True)
class AdminSection:
    # Empty means no PIN is set: the admin screen cannot be opened.
    pin_hash: str = mirrored(Settings, "pin_hash", pattern=PIN_HASH_PATTERN,
                           hint="make one with 'kiosk hash-pin'")
    long_press_s: float = option(3.0, min=1.0, max=10.0)
    max_attempts: int = mirrored(Settings, "max_pin_attempts", min=1, max=20)
    lockout_s: int = mirrored(Settings, "lockout_s", min=10, max=86400)


@dataclass(frozen=True)
class JournalSection:
    # Empty paths mean "inside kiosk.data_dir".
    path: str = option("")
    key_path: str = option("")
    # Disk space kept free for the journal (a file in kiosk.data_dir), released when the
    # partition fills up, so the kiosk can still journal that it is out of service. 0: none.
    reserve_mb: int = option(4, min=0, max=1024)
    # Rows already uploaded are pruned once older than this; 0 keeps every row.
    keep_days: int = option(400, min=0, max=36500)


PREFIX_LIST = re.compile(r"^[^,\s]+(,[^,\s]+)*$")


@dataclass(frozen=True)
class BarcodesSection:
    # How the library numbers its cards and books; a scan that fits neither is "unknown". A
    # card number typed on the keypad must fit the patron rules too, or the screen says so.
    patron_prefixes: str = option("2", pattern=PREFIX_LIST, hint="prefixes separated by commas")
    item_prefixes: str = option("3", pattern=PREFIX_LIST, hint="prefixes separated by commas")
    length: int = option(14, min=0, max=64)
    check_digit: str = option("luhn", choices=("luhn", "none"))
    # Written once, on drivers.settings.BarcodeRules (a tuple there, commas here).
    ecard_prefixes: str = option(",".join(default_of(BarcodeRules, "ecard_prefixes")),
                                 pattern=re.compile(r"^([^,\s]+(,[^,\s]+)*)?$"),
                                 hint="prefixes separated by commas")


@dataclass(frozen=True)
class ScannerSection:
    debounce_s: float = option(2.0, min=0.0, max=60.0)
    silence_ms: int = option(80, min=10, max=2000)


@dataclass(frozen=True)
class RfidSection:
    security: str = option("afi", choices=("afi", "eas"))
    afi_secured: int = option(0x07, min=0, max=255)
    afi_unsecured: int = option(0xC2, min=0, max=255)
    poll_ms: int = option(250, min=50, max=5000)


@dataclass(frozen=True)
class EbooksSection:
    # Empty paths mean "inside kiosk.data_dir": catalogue/, content-signing.pub, link.key.
    catalogue_dir: str = option("")
    batch_public_key: str = option("")
    link_key_path: str = option("")
    # Where phones fetch books: the central server, or this kiosk ("" with serve = true).
    download_base: str = option("", pattern=re.compile(r"^(https?://[^\s?#]+)?$"),
                                hint="an http:// or https:// address without ? or #")
    link_ttl_s: int = option(1800, min=60, max=7 * 86400)
    # Serve downloads from this kiosk on the library network (no internet needed).
    serve: bool = option(False)
    listen: str = option("0.0.0.0")
    port: int = option(8080, min=1, max=65535)
    # The library Wi-Fi, shown as a second QR code when serving downloads locally.
    wifi_ssid: str = option("")
    wifi_password: str = option("")
    wifi_security: str = option("WPA", choices=("WPA", "WEP", "nopass"))


# The [ils] section is the SIP2 client's settings: names, defaults and checks in one place.
IlsSection = IlsSettings


@dataclass(frozen=True)
class CirculationSection:
    # Ask for the patron's PIN: "yes", "no", or "auto" (when the ILS says the PIN matters).
    pin: str = mirrored(CirculationSettings, "pin", choices=SWITCH)
    pin_attempts: int = mirrored(CirculationSettings, "pin_attempts", min=1, max=10)
    # Print the receipt when a printer is configured: "ask", "always" or "never".
    receipt: str = mirrored(CirculationSettings, "receipt", choices=("ask", "always", "never"))
    # Accept checkouts and returns while the ILS is away, sent when it is back.
    offline: bool = mirrored(CirculationSettings, "offline")
    offline_max_items: int = mirrored(CirculationSettings, "offline_max_items", min=1, max=100)
    offline_max_total: int = mirrored(CirculationSettings, "offline_max_total", min=1,
                                      max=100000)
    # Never lent offline: barcode prefixes and ranges ("REF,30000000-30009999"), and items
    # the ILS refused (on hold, not for loan, unknown, on loan) within this many days.
    offline_refuse: str = option("", pattern=re.compile(r"^[^\s]*$"),
                                 hint="prefixes and ranges separated by commas, no spaces")
    offline_refused_days: int = option(30, min=0, max=3650)


@dataclass(frozen=True)
class CentralSection:
    url: str = option("", pattern=re.compile(r"^(https?://\S+)?$"),
                      hint="an http:// or https:// address")
    # The kiosk's token from 'kiosk-central kiosk add'; empty means data_dir/central.token.
    token_path: str = option("")
    # Journal rows per batch (a batch never carries more than 5,000 count rows either).
    batch_rows: int = option(2000, min=1, max=100_000)
    # Batches per run and the pause between them: a kiosk back after weeks offline catches up
    # over several timer runs instead of flooding the server.
    max_batches_per_run: int = option(20, min=1, max=10_000)
    pause_s: float = option(1.0, min=0.0, max=600.0)
    # Seconds to connect, and to wait for an answer, on every request.
    connect_timeout_s: float = option(5.0, min=0.1, max=120.0)
    timeout_s: float = option(30.0, min=0.1, max=600.0)
    # Retries of a request after a network error, 408, 429 or 5xx, with exponential back-off
    # and jitter from backoff_s up to 60 s, and at most retry_budget_s in all.
    retries: int = option(5, min=0, max=20)
    backoff_s: float = option(1.0, min=0.0, max=60.0)
    retry_budget_s: float = option(300.0, min=0.0, max=3600.0)


@dataclass(frozen=True)
class UpdatesSection:
    # The maintenance window for e-book batches and system updates from the central server:
    # the local time when they may be downloaded, a batch applied and the kiosk restarted into
    # an update (may pass midnight: "23:00-03:00"), the downloads' bandwidth limit in kilobits
    # per second (0: none), and the space on the data partition a download leaves free, in MB.
    window: str = option("01:00-05:00", pattern=re.compile(r"^\d\d:\d\d-\d\d:\d\d$"),
                         hint="HH:MM-HH:MM in local time, e.g. 01:00-05:00")
    max_rate_kbps: int = option(0, min=0, max=10_000_000)
    reserve_mb: int = option(200, min=0, max=1_000_000)


HOST_LIST = re.compile(r"^([A-Za-z0-9.:-]+(,[A-Za-z0-9.:-]+)*)?$")


@dataclass(frozen=True)
class TimeSection:
    # NTP servers the kiosk sets its clock from, separated by commas; library networks often
    # block public ones. Empty: the operating system's own choice (Debian's pool).
    ntp_servers: str = option("", pattern=HOST_LIST,
                              hint="host names or addresses separated by commas, no spaces")


# The [sound] section is the player's settings: names, defaults and checks in one place.
SoundSection = SoundSettings


@dataclass(frozen=True)
class LoggingSection:
    level: str = option("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))


@dataclass(frozen=True)
class AttractNotice:
    """One of the library's notices on the attract screen: Chinese, English if given, and the
    days it shows, both included (ISO dates; empty: from always, until always)."""
    zh: str
    en: str = ""
    start: str = ""  # "from" in the file
    until: str = ""

    def shows_on(self, day: str) -> bool:
        return (self.start or day) <= day <= (self.until or day)


@dataclass(frozen=True)
class AttractSection:
    # Covers of new and popular e-books, and seconds before the next set shows.
    covers: bool = option(True)
    cover_s: int = option(8, min=3, max=120)
    # Seconds each notice shows before the next; the notices themselves (see the example).
    notice_s: int = option(10, min=3, max=120)
    notices: tuple[AttractNotice, ...] = field(default=())


@dataclass(frozen=True)
class Config:
    kiosk: KioskSection = field(default_factory=KioskSection)
    display: DisplaySection = field(default_factory=DisplaySection)
    idle: IdleSection = field(default_factory=IdleSection)
    admin: AdminSection = field(default_factory=AdminSection)
    journal: JournalSection = field(default_factory=JournalSection)
    # Device name -> source string, e.g. scanner = "sim:scanner".
    devices: dict[str, str] = field(default_factory=dict)
    barcodes: BarcodesSection = field(default_factory=BarcodesSection)
    scanner: ScannerSection = field(default_factory=ScannerSection)
    rfid: RfidSection = field(default_factory=RfidSection)
    ebooks: EbooksSection = field(default_factory=EbooksSection)
    ils: IlsSettings = field(default_factory=IlsSettings)
    circulation: CirculationSection = field(default_factory=CirculationSection)
    central: CentralSection = field(default_factory=CentralSection)
    updates: UpdatesSection = field(default_factory=UpdatesSection)
    time: TimeSection = field(default_factory=TimeSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    sound: SoundSettings = field(default_factory=SoundSettings)
    attract: AttractSection = field(default_factory=AttractSection)
    sources: tuple[str, ...] = ()  # the files read, in order
    # Which file set each option ("admin.pin_hash" -> path), for the doctor's warnings.
    origins: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def data_dir(self) -> Path:
        return Path(self.kiosk.data_dir).expanduser()

    @property
    def journal_path(self) -> Path:
        return (Path(self.journal.path).expanduser() if self.journal.path
                else self.data_dir / "journal.sqlite3")

    @property
    def patron_key_path(self) -> Path:
        return (Path(self.journal.key_path).expanduser() if self.journal.key_path
                else self.data_dir / "patron.key")

    @property
    def catalogue_dir(self) -> Path:
        return self._in_data_dir(self.ebooks.catalogue_dir, "catalogue")

    @property
    def batch_public_key_path(self) -> Path:
        return self._in_data_dir(self.ebooks.batch_public_key, "content-signing.pub")

    @property
    def link_key_path(self) -> Path:
        return self._in_data_dir(self.ebooks.link_key_path, "link.key")

    @property
    def central_token_path(self) -> Path:
        return self._in_data_dir(self.central.token_path, "central.token")

    def _in_data_dir(self, configured: str, default_name: str) -> Path:
        return Path(configured).expanduser() if configured else self.data_dir / default_name

    @property
    def ntp_servers(self) -> tuple[str, ...]:
        return tuple(s for s in self.time.ntp_servers.split(",") if s)

    @property
    def driver_settings(self) -> DriverSettings:
        codes, rfid = self.barcodes, self.rfid
        return DriverSettings(
            barcodes=BarcodeRules(
                patron_prefixes=tuple(codes.patron_prefixes.split(",")),
                item_prefixes=tuple(codes.item_prefixes.split(",")),
                length=codes.length, check_digit=codes.check_digit,
                ecard_prefixes=tuple(p for p in codes.ecard_prefixes.split(",") if p)),
            scanner=ScannerTiming(self.scanner.debounce_s, self.scanner.silence_ms),
            rfid=RfidSecurity(rfid.security, rfid.afi_secured, rfid.afi_unsecured, rfid.poll_ms))


_SECTION_CLASSES = {
    "kiosk": KioskSection, "display": DisplaySection, "idle": IdleSection, "admin": AdminSection,
    "journal": JournalSection, "barcodes": BarcodesSection, "scanner": ScannerSection,
    "rfid": RfidSection, "ebooks": EbooksSection, "ils": IlsSettings,
    "circulation": CirculationSection, "central": CentralSection,
    "updates": UpdatesSection, "time": TimeSection, "logging": LoggingSection,
    "sound": SoundSection,
    "attract": AttractSection,
}
_ALLOWED_SECTIONS = (*_SECTION_CLASSES, "devices")


def load(path: str | Path | None = None) -> Config:
    """Read the config: `path` alone, or the default file with the boot-partition override."""
    if path is not None:
        files = [Path(path)]
        if files[0].is_dir():
            raise ConfigError(Said(N_("{path} is a folder, not a config file: name the "
                                      "kiosk.toml in it"), path=path))
        if not files[0].is_file():
            raise ConfigError(Said(N_("{path}: no such config file"), path=path))
    else:
        base = [DEFAULT_PATH] if DEFAULT_PATH.is_file() else []
        # Bookworm mounts the boot partition at /boot/firmware, older systems at /boot.
        boot = next((p for p in BOOT_OVERRIDES if p.is_file()), None)
        files = base + ([boot] if boot else [])
    return load_files(files)


def load_files(files: list[Path]) -> Config:
    """Merge the files key by key, later ones winning, and check the result."""
    merged: dict[str, dict[str, Any]] = {}
    origin: dict[tuple[str, str], Path] = {}
    for path in files:
        for section, values in read_toml(path, WORDING).items():
            if section not in _ALLOWED_SECTIONS:
                raise ConfigError(Said(N_("{path}: unknown section [{section}]; allowed: "
                                          "{allowed}"), path=path, section=section,
                                       allowed=", ".join(_ALLOWED_SECTIONS)))
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: '{section}' must be a section [{section}], not a value")
            for key, value in values.items():
                merged.setdefault(section, {})[key] = value
                origin[(section, key)] = path
    # A list of tables, which the typed options do not take: checked on its own.
    notices = _build_notices(merged.get("attract", {}).pop("notices", []), origin)
    sections: dict[str, Any] = {
        name: build_section(cls, name, merged.get(name, {}),
                            {key: path for (section, key), path in origin.items()
                             if section == name}, WORDING)
        for name, cls in _SECTION_CLASSES.items()}
    devices = _build_devices(merged.get("devices", {}), origin)
    sections["attract"] = replace(sections["attract"], notices=notices)
    _check_offline_rules(sections["circulation"], origin)
    _check_window(sections["updates"], origin)
    _check_quiet_hours(sections["sound"], origin)
    _check_pin_hash(sections["admin"], origin)
    if not sections["kiosk"].data_dir.strip():  # "" would put the journal in whatever folder
        raise ConfigError(f"{origin[('kiosk', 'data_dir')]}: option 'data_dir' in section "
                          "[kiosk] is empty: name the data folder, e.g. /var/lib/kiosk")
    rotation = sections["display"].rotation
    if rotation % 90:
        raise ConfigError(Said(N_("{path}: option 'rotation' in section [display] must be one "
                                  "of 0, 90, 180, 270 (got {value})"),
                               path=origin[("display", "rotation")], value=rotation))
    rfid = sections["rfid"]
    if rfid.afi_secured == rfid.afi_unsecured:
        where = origin.get(("rfid", "afi_secured")) or origin.get(("rfid", "afi_unsecured"))
        raise ConfigError(f"{where}: options 'afi_secured' and 'afi_unsecured' in section [rfid] "
                          f"must differ (both are {rfid.afi_secured:#04x})")
    return Config(**sections, devices=devices, sources=tuple(str(p) for p in files),
                  origins={f"{section}.{key}": str(path)
                           for (section, key), path in origin.items()})


def _check_pin_hash(admin: AdminSection, origin: dict[tuple[str, str], Path]) -> None:
    """A hash made with too few iterations is quick to guess from a copy; one with absurdly many
    would keep the kiosk checking a PIN for minutes."""
    from kiosk.core.pin import hash_problem
    problem = hash_problem(admin.pin_hash) if admin.pin_hash else None
    if problem is not None:
        raise ConfigError(f"{origin[('admin', 'pin_hash')]}: option 'pin_hash' in section "
                          f"[admin] cannot be used: {problem}")


def readable_by_any_pc(path: str | Path) -> bool:
    """Whether `path` is on the boot partition, or another file system any PC reads."""
    path = Path(path)
    if path in BOOT_OVERRIDES:
        return True
    return _file_system(path) in PC_READABLE_FS


def _file_system(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> str | None:
    """The type of the file system holding `path` (the longest mount point above it)."""
    try:
        resolved = path.resolve()
        lines = mountinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    best, kind = -1, None
    for line in lines:
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        mount = Path(fields[4].replace("\\040", " "))
        fs_type = line.split(" - ", 1)[1].split()[0]
        if (resolved == mount or mount in resolved.parents) and len(mount.parts) > best:
            best, kind = len(mount.parts), fs_type
    return kind


def _check_offline_rules(circulation: CirculationSection,
                         origin: dict[tuple[str, str], Path]) -> None:
    from kiosk.core.offline_rules import parse_rules
    try:
        parse_rules(circulation.offline_refuse)
    except ValueError as e:
        raise ConfigError(f"{origin[('circulation', 'offline_refuse')]}: option "
                          f"'offline_refuse' in section [circulation]: {e}") from None


def _check_window(updates: UpdatesSection, origin: dict[tuple[str, str], Path]) -> None:
    from kiosk.update.window import parse_window
    try:
        parse_window(updates.window)
    except ValueError as e:
        raise ConfigError(f"{origin[('updates', 'window')]}: option 'window' in section "
                          f"[updates]: {e}") from None


def _check_quiet_hours(sound: SoundSettings, origin: dict[tuple[str, str], Path]) -> None:
    from kiosk.update.window import parse_window
    if not sound.quiet_hours:
        return
    try:
        parse_window(sound.quiet_hours)
    except ValueError as e:
        raise ConfigError(f"{origin[('sound', 'quiet_hours')]}: option 'quiet_hours' in section "
                          f"[sound]: {e}") from None


def _build_devices(values: dict[str, Any], origin: dict[tuple[str, str], Path]) -> dict[str, str]:
    for name, source in values.items():
        where = f"{origin[('devices', name)]}: device '{name}' in section [devices]"
        if not isinstance(source, str):
            raise ConfigError(f"{where} must be a source string like \"sim:scanner\" "
                              f"(got {source!r})")
        try:
            check_source(source)
        except SourceError as e:
            raise ConfigError(f"{where}: {e}") from None
    return dict(values)


NOTICE_KEYS = ("zh", "en", "from", "until")
MAX_NOTICES, MAX_NOTICE_CHARS = 20, 80  # in turn; and in one go beside the covers


def _build_notices(values: Any, origin: dict[tuple[str, str], Path]) -> tuple[AttractNotice, ...]:
    if values == []:
        return ()
    where = f"{origin[('attract', 'notices')]}: "
    if not isinstance(values, list):
        raise ConfigError(f"{where}option 'notices' in section [attract] must be a list of "
                          f"notices, e.g. [{{ zh = \"...\", en = \"...\" }}] (got {values!r})")
    if len(values) > MAX_NOTICES:
        raise ConfigError(f"{where}option 'notices' in section [attract] has {len(values)} "
                          f"notices; at most {MAX_NOTICES}")
    return tuple(_notice(value, f"{where}notice {n} in section [attract]")
                 for n, value in enumerate(values, 1))


def _notice(value: Any, where: str) -> AttractNotice:
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be a table like {{ zh = "...", en = "...", from = '
                          f'"2027-01-01", until = "2027-01-31" }} (got {value!r})')
    unknown = [key for key in value if key not in NOTICE_KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: "
                          + ", ".join(NOTICE_KEYS))
    # TOML's own dates (from = 2027-01-01) are as good as quoted ones; a time of day is not.
    value = {key: text.isoformat() if type(text) is date else text for key, text in value.items()}
    for key, text in value.items():
        if not isinstance(text, str):
            kind = "a date like 2027-01-31 in quotes" if key in ("from", "until") else "text"
            raise ConfigError(f"{where}: {key!r} must be {kind} (got {text!r})")
        if "\x00" in text:
            raise ConfigError(f"{where}: {key!r} holds a NUL character (\\u0000)")
        if len(text) > MAX_NOTICE_CHARS:
            raise ConfigError(f"{where}: {key!r} is longer than {MAX_NOTICE_CHARS} characters")
    if not value.get("zh", "").strip():
        raise ConfigError(f"{where} has no Chinese text 'zh' (English 'en' is optional)")
    for key in ("from", "until"):
        text = value.get(key, "")
        try:
            if text and date.fromisoformat(text).isoformat() != text:
                raise ValueError(text)
        except ValueError:
            raise ConfigError(f"{where}: {key!r} must be a date like 2027-01-31 "
                              f"(got {text!r})") from None
    start, until = value.get("from", ""), value.get("until", "")
    if start and until and until < start:
        raise ConfigError(f"{where}: 'until' ({until}) is before 'from' ({start})")
    return AttractNotice(value["zh"].strip(), value.get("en", "").strip(), start, until)
