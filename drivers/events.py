"""The immutable events drivers put on the kiosk's queue.

`source` is always the configured device name. The fields mirror `kiosk devices listen`'s JSON,
which technicians and black-box tests read (see `drivers.listen_json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias


@dataclass(frozen=True)
class BarcodeRead:
    source: str
    data: str  # without AIM prefix or Codabar start/stop characters
    symbology: str | None = None  # "codabar", "code128", "qr", ... when the scanner said
    kind: str = "unknown"  # item, patron, isbn, ecard or unknown (drivers.barcode.classify)


@dataclass(frozen=True)
class CardRead:
    """A patron card number or UID from a card reader (not a barcode scanner)."""
    source: str
    data: str


@dataclass(frozen=True)
class Tag:
    """One RFID tag on the pad, as far as it could be read and decoded. Whatever the reader,
    a UID is listed only once it is known to be a real tag's: the reply that named it carried
    a checksum (3M 810), or the tag answered a request that names it, or two inventories in a
    row held it (TRF7970A); `error` then says why its data could not be read or trusted."""
    uid: str  # 16 hex digits, most significant first ("E004...")
    item_id: str | None = None
    isil: str | None = None  # owner library, e.g. "CN-430281"
    usage: str | None = None  # circulating, not_for_circulation, patron_card, ... (tagdata)
    part: int = 1
    parts: int = 1
    secured: bool | None = None  # None: the security state could not be read
    model: str = "unknown"  # iso28560-3, iso28560-2, 3m or unknown
    error: str | None = None  # why the data could not be read or trusted


@dataclass(frozen=True)
class ItemSet:
    """The parts of one item found on the pad; a book with its CD is two parts."""
    item_id: str
    parts: int
    present: tuple[int, ...]

    @property
    def complete(self) -> bool:
        return set(self.present) >= set(range(1, self.parts + 1))


@dataclass(frozen=True)
class TagsSeen:
    """The set of tags on the pad changed; this is the whole new set."""
    source: str
    tags: tuple[Tag, ...]
    sets: tuple[ItemSet, ...] = ()


@dataclass(frozen=True)
class DeviceStatus:
    """A device's state changed. "connected": working; "degraded": working, but its replies are
    often late or garbled, so it is being reopened or watched after a reopen (`detail` says
    why); "lost": not working (unplugged, not answering); "unavailable": cannot be used here."""
    source: str
    state: str  # "connected", "degraded", "lost" or "unavailable"
    detail: str = ""


@dataclass(frozen=True)
class DeviceFault:
    """The device sent something unusable; it was logged and counted, and reading goes on."""
    source: str
    detail: str
    count: int  # faults from this device since the kiosk started


DriverEvent: TypeAlias = BarcodeRead | CardRead | TagsSeen | DeviceStatus | DeviceFault


class EventSink(Protocol):
    """Where a driver puts its events: the kiosk's queue, or any `queue.Queue`. A driver only
    puts, so a queue that also carries the kiosk's other events will do."""

    def put(self, item: DriverEvent, /) -> None: ...
