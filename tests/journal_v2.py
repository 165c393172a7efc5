"""A version-2 journal, as kiosks in the field have one since intents and pruning came: a
version-1 file (tests/journal_v1.py) taken to version 2 by that release's own upgrade
statements, which later releases keep unchanged (`schema.UPGRADES[1]`).

`incremental` makes it as a new version-2 kiosk made its file (auto_vacuum=incremental, set
before the tables); without it, as a version-1 file upgraded in place (auto_vacuum off).
"""

import sqlite3
from pathlib import Path

from kiosk.journal import schema
from tests.journal_v1 import make_v1


def make_v2(path: Path, rows: int, *, sent_upto: int = 0, incremental: bool = True) -> None:
    if incremental:
        db = sqlite3.connect(path, isolation_level=None)
        # Recorded in the header once a table is made; the table itself is not kept.
        db.executescript("PRAGMA auto_vacuum = INCREMENTAL; CREATE TABLE t (x); DROP TABLE t;")
        db.close()
    make_v1(path, rows, sent_upto=sent_upto)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN")
        for statement in schema.UPGRADES[1]:
            db.execute(statement)
        db.execute("COMMIT")
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        db.close()
