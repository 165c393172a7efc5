"""Driver events as the JSON objects `kiosk devices listen` prints, one per line.

Technicians read these, and black-box tests parse them: the field names are a contract.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from drivers.events import BarcodeRead, CardRead, DeviceFault, DeviceStatus, TagsSeen


def as_json(event: object) -> dict[str, Any]:
    if isinstance(event, BarcodeRead):
        return {"type": "barcode", "source": event.source, "data": event.data,
                "symbology": event.symbology, "kind": event.kind}
    if isinstance(event, CardRead):
        return {"type": "card", "source": event.source, "data": event.data}
    if isinstance(event, TagsSeen):
        return {"type": "tags", "source": event.source,
                "tags": [dataclasses.asdict(tag) for tag in event.tags],
                "sets": [{"item_id": s.item_id, "parts": s.parts, "present": list(s.present),
                          "complete": s.complete} for s in event.sets]}
    if isinstance(event, DeviceStatus):
        return {"type": "device", "source": event.source, "state": event.state,
                "detail": event.detail}
    if isinstance(event, DeviceFault):
        return {"type": "fault", "source": event.source, "detail": event.detail,
                "count": event.count}
    raise TypeError(f"not a driver event: {event!r}")
