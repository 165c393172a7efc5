"""What the drivers need from the kiosk's config, as the drivers' own plain values.

The kiosk builds these from `kiosk.toml` ([barcodes], [scanner], [rfid]); tests build them
directly. Drivers never read the config file themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from drivers.source import Source


@dataclass(frozen=True)
class BarcodeRules:
    """How to tell a patron card from an item, as the library numbers them."""
    patron_prefixes: tuple[str, ...] = ("2",)
    item_prefixes: tuple[str, ...] = ("3",)
    length: int = 14  # 0: any length
    check_digit: str = "luhn"  # "luhn" (mod 10) or "none"
    ecard_prefixes: tuple[str, ...] = ("ECARD:",)  # payloads of phone e-card QR codes


@dataclass(frozen=True)
class ScannerTiming:
    debounce_s: float = 2.0  # the same code again within this is the same scan
    silence_ms: int = 80  # a scan without Enter/Tab ends after this pause between keys


@dataclass(frozen=True)
class RfidSecurity:
    mode: str = "afi"  # "afi" or "eas"
    afi_secured: int = 0x07  # ISO 28560: on the shelf
    afi_unsecured: int = 0xC2  # ISO 28560: on loan
    poll_ms: int = 250


@dataclass(frozen=True)
class DriverSettings:
    barcodes: BarcodeRules = field(default_factory=BarcodeRules)
    scanner: ScannerTiming = field(default_factory=ScannerTiming)
    rfid: RfidSecurity = field(default_factory=RfidSecurity)


# What an RFID reader's source string may set over [rfid] (`3m810:/dev/ttyUSB0?security=eas`).
RFID_OPTIONS = ("security", "poll_ms")


def rfid_settings(source: Source, settings: DriverSettings) -> RfidSecurity:
    """The [rfid] settings, with the source's own `security` and `poll_ms` on top."""
    base = settings.rfid
    return replace(base, mode=source.text_option("security", base.mode, ("afi", "eas")),
                   poll_ms=source.whole_number("poll_ms", base.poll_ms, 50, 5000))
