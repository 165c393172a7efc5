"""The immutable events drivers put on the kiosk's queue."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BarcodeRead:
    source: str  # the configured device name
    data: str
    symbology: str | None = None


@dataclass(frozen=True)
class DeviceStatus:
    source: str
    state: str  # "connected", "lost" or "unavailable"
    detail: str = ""
