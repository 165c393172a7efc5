"""Real journal files with a kiosk's traffic at chosen times, for the uploader's tests and bench.

Rows go through `Journal.append` (patron hashing, chain and all); only the clock it reads is
set to each row's time. `fast=True` turns off the per-row fsync, for files of 100,000 rows.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

from kiosk.journal import Journal
from kiosk.journal.store import utc_text

CARDS = ["23520001234566", "23520009876541", "23520005555553"]
ITEMS = ["33520000123453", "33520000999990"]
BOOKS = ["000123", "000124", "sample-7"]
# (kind, outcome, what it carries), weighted roughly like a library day.
TRAFFIC = [
    ("session", "ok", None), ("session", "timeout", None), ("checkout", "ok", "item"),
    ("checkout", "ok", "item"), ("checkout", "blocked card", "item"), ("checkin", "ok", "item"),
    ("checkin", "ok", "item"), ("renew", "ok", "item"), ("ebook_view", "ok", "book"),
    ("ebook_qr", "ok", "book"), ("ebook_download", "ok", "book"), ("search", "ok", None),
    ("search", "abandoned", None), ("error", "printer_offline", None),
]


def append_at(journal: Journal, moment: datetime, kind: str, outcome: str, **fields) -> int:
    with mock.patch("kiosk.journal.store.utc_now", return_value=utc_text(moment)):
        return journal.append(kind, outcome, **fields)


def fill(path: Path, key: Path, *, days: int, per_day: int, start: datetime,
         seed: int = 6, fast: bool = False) -> Counter:
    """`per_day` rows on each of `days` days from `start` (UTC), opening hours 09:00-20:00 in
    UTC+8; returns the rows written per kind."""
    rng = random.Random(seed)
    written: Counter = Counter()
    with Journal.open(path, key) as journal:
        if fast:
            journal._db.execute("PRAGMA synchronous = OFF")
        times = (start + timedelta(days=day, seconds=rng.uniform(3600, 12 * 3600))
                 for day in range(days) for _ in range(per_day))
        with mock.patch("kiosk.journal.store.utc_now") as clock:
            for moment in sorted(times):
                kind, outcome, carries = rng.choice(TRAFFIC)
                fields = {"patron": rng.choice(CARDS)} if kind != "ebook_download" else {}
                if carries == "item":
                    fields.update(item=rng.choice(ITEMS), title="红楼梦")
                elif carries == "book":
                    fields.update(item=rng.choice(BOOKS), title="三体")
                clock.return_value = utc_text(moment)
                journal.append(kind, outcome, detail={"seconds": rng.randint(5, 300),
                                                      "note": "patron 23520001234566"}, **fields)
                written[kind] += 1
    return written


START = datetime(2026, 8, 26, 0, 0, tzinfo=timezone.utc)
