"""A journal file copied from a kiosk is outside bytes: rows changed by hand (a time that is not
a time, a detail that is not JSON, binary data where text belongs) are reported by `verify`
and shown as they are by `stats` and `export`, never a traceback."""

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.cli.main import main
from kiosk.journal import schema
from tests.journal_rows import add_rows


@pytest.fixture
def tampered(tmp_path):
    path = tmp_path / "journal.sqlite3"
    add_rows(path, 12, start=datetime(2026, 11, 1, tzinfo=timezone.utc), step=timedelta(hours=1))
    db = sqlite3.connect(path, isolation_level=None)
    for name in schema.TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.execute("UPDATE entries SET time_utc = 'garbage²' WHERE seq = 3")
    db.execute("UPDATE entries SET detail = '{not json' WHERE seq = 4")
    db.execute("UPDATE entries SET time_utc = X'FF00' WHERE seq = 5")
    db.execute("UPDATE entries SET title = X'E7BA' WHERE seq = 6")
    db.close()
    return path


@pytest.mark.parametrize("action,code", [("stats", 0), ("stats --json", 0), ("verify", 1),
                                         ("export", 0), ("export --format jsonl", 0)])
def test_a_journal_changed_by_hand_is_reported_not_a_traceback(tampered, capsys, action, code):
    assert main(["journal", *action.split(), "--file", str(tampered)]) == code
    out, err = capsys.readouterr()
    if action == "verify":
        assert "row 3 has a malformed time 'garbage²'" in out
        assert "row 5 holds binary data in time_utc" in out
    if action.startswith("export"):
        assert "exported 12 rows" in err and "garbage²" in out
