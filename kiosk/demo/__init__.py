"""The demo: a config with simulated devices and sample cards and books to tap."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
DEMO_PIN = "1234"  # the demo config's staff PIN, printed in the README; never a real kiosk's


@dataclass(frozen=True)
class Sample:
    kind: str  # "card" or "book"
    label: str
    code: str
    pin: str = ""  # a card's PIN at the demo's library system (kiosk/demo/ils.toml)


def load_samples(path: Path = DEMO_DIR / "samples.json") -> list[Sample]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Sample(kind, item["label"], item["code"], item.get("pin", ""))
            for kind in ("card", "book") for item in data[kind + "s"]]
