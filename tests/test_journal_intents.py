"""Intents: an ILS transaction is journaled before the call and settled after; a crash leaves
it open for the next start. And the version-1 journals in the field upgraded in place."""

import os
import sqlite3
import subprocess
import sys

import pytest

from kiosk.errors import JournalError
from kiosk.journal import IntentNotOpen, Journal, schema
from tests.conftest import ROOT
from tests.journal_v1 import make_v1

CARD = "23520001234566"


@pytest.fixture
def journal(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite3", tmp_path / "patron.key") as j:
        yield j


def raw(path):
    return sqlite3.connect(path, isolation_level=None)


def test_an_intent_is_a_row_open_until_its_outcome_settles_it(journal):
    journal.append("session", "ok")
    seq = journal.open_intent("checkout", item="33520000123453", patron=CARD, title="红楼梦",
                              detail={"token": 7})
    assert seq == 2
    (intent,) = journal.open_intents()
    assert (intent.seq, intent.kind, intent.outcome, intent.item, intent.title) == (
        2, "intent", "checkout", "33520000123453", "红楼梦")
    assert intent.patron_hash and CARD not in intent.patron_hash
    assert intent.detail == {"token": 7}
    done = journal.append("checkout", "ok", item="33520000123453", patron=CARD, intent=seq)
    assert journal.open_intents() == []
    assert list(journal.rows(after_seq=done - 1))[0].detail == {"intent": seq}
    assert journal.verify() == []


def test_an_unknown_result_leaves_the_intent_open_for_reconciliation(journal):
    seq = journal.open_intent("checkin", item="33520000123453", patron=None)
    journal.append("checkin", "unknown", item="33520000123453", intent=seq, settles=False,
                   detail={"why": "no reply"})
    assert [r.seq for r in journal.open_intents()] == [seq]
    journal.append("checkin", "reconciled", item="33520000123453", intent=seq)
    assert journal.open_intents() == []
    assert [(r.detail or {}).get("intent") for r in journal.rows()] == [None, seq, seq]
    assert journal.verify() == []


def test_open_intents_come_oldest_first(journal):
    seqs = [journal.open_intent(op, item=f"item-{n}", patron=CARD)
            for n, op in enumerate(["checkout", "renew", "checkin"])]
    journal.append("checkout", "ok", intent=seqs[1])
    assert [(r.seq, r.outcome) for r in journal.open_intents()] == [
        (seqs[0], "checkout"), (seqs[2], "checkin")]


def test_an_outcome_settles_its_intent_in_the_delete_that_finds_it_open(journal):
    """Each checkout, checkin and renew writes an intent and then its outcome: the outcome's
    DELETE of the open mark says whether the intent was open (a row deleted), with no SELECT
    of its own first. An outcome that leaves it open still asks."""
    seq = journal.open_intent("checkout", item="x", patron=CARD)
    statements: list[str] = []
    journal._db.set_trace_callback(statements.append)
    try:
        journal.append("checkout", "ok", item="x", patron=CARD, intent=seq)
        later = journal.open_intent("checkin", item="x", patron=CARD)
        journal.append("checkin", "unknown", item="x", intent=later, settles=False)
    finally:
        journal._db.set_trace_callback(None)
    assert [s.split()[0].upper() for s in statements] == [
        "BEGIN", "DELETE", "INSERT", "COMMIT",
        "BEGIN", "INSERT", "INSERT", "COMMIT",
        "BEGIN", "SELECT", "INSERT", "COMMIT"]
    assert [r.seq for r in journal.open_intents()] == [later]
    assert journal.verify() == []


def test_settling_an_intent_that_is_not_open_writes_nothing(journal):
    seq = journal.open_intent("checkout", item="x", patron=CARD)
    journal.append("checkout", "ok", intent=seq)
    rows = journal.stats().rows
    for wrong in (seq, 99, 1):  # settled already, never opened
        with pytest.raises(IntentNotOpen, match="is not open"):
            journal.append("checkout", "ok", intent=wrong)
        with pytest.raises(IntentNotOpen):
            journal.append("checkout", "unknown", intent=wrong, settles=False)
    assert journal.stats().rows == rows
    with pytest.raises(ValueError, match="not an ILS operation"):
        journal.open_intent("session", item="x", patron=None)


def test_the_intent_row_and_its_open_mark_are_one_transaction(journal):
    # A fault between the row and the side table must not leave an intent nobody will settle.
    with raw(journal.path) as db:
        db.execute("CREATE TRIGGER fail BEFORE INSERT ON open_intents "
                   "BEGIN SELECT RAISE(ABORT, 'disk gave up'); END")
    with pytest.raises(Exception, match="disk gave up"):
        journal.open_intent("checkout", item="x", patron=CARD)
    assert journal.stats().rows == 0
    with raw(journal.path) as db:
        db.execute("DROP TRIGGER fail")
    seq = journal.open_intent("checkout", item="x", patron=CARD)
    with raw(journal.path) as db:
        db.execute("CREATE TRIGGER fail BEFORE DELETE ON open_intents "
                   "BEGIN SELECT RAISE(ABORT, 'disk gave up'); END")
    with pytest.raises(Exception, match="disk gave up"):
        journal.append("checkout", "ok", intent=seq)
    assert [r.kind for r in journal.rows()] == ["intent"]  # the outcome row went with it
    assert [r.seq for r in journal.open_intents()] == [seq]


def test_a_crash_between_call_and_outcome_leaves_the_intent_open(tmp_path):
    path, key = tmp_path / "journal.sqlite3", tmp_path / "patron.key"
    script = ("import os, sys; from kiosk.journal import Journal\n"
              "j = Journal.open(sys.argv[1], sys.argv[2])\n"
              "j.open_intent('checkout', item='33520000123453', patron='23520001234566')\n"
              "os._exit(9)  # killed while the ILS was being asked\n")
    done = subprocess.run([sys.executable, "-c", script, str(path), str(key)], cwd=ROOT)
    assert done.returncode == 9
    with Journal.open(path, key) as journal:
        (left,) = journal.open_intents()
        assert (left.outcome, left.item) == ("checkout", "33520000123453")
        journal.append("checkout", "reconciled", item=left.item, intent=left.seq)
        assert journal.open_intents() == [] and journal.verify() == []


def test_verify_checks_the_open_intents_against_the_rows(journal):
    journal.append("session", "ok")
    settled = journal.open_intent("checkout", item="a", patron=CARD)
    journal.append("checkout", "ok", intent=settled)
    left = journal.open_intent("checkout", item="b", patron=CARD)
    with raw(journal.path) as db:
        db.execute("INSERT INTO open_intents (seq) VALUES (1)")  # a session row, not an intent
        db.execute("DELETE FROM open_intents WHERE seq = ?", (left,))  # closed without a row
    problems = journal.verify()
    assert "open intent 1 is not an intent row" in problems
    assert f"intent {left} is settled, but no row names it" in problems
    assert len(problems) == 2


def test_a_version_1_journal_is_upgraded_in_place_at_open(tmp_path):
    path = tmp_path / "journal.sqlite3"
    make_v1(path, 30, sent_upto=12)
    with Journal.open(path, tmp_path / "patron.key") as journal:
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION == 3
        assert journal.verify() == []
        assert journal.sent_upto() == 12 and journal.stats().rows == 30
        seq = journal.open_intent("renew", item="item-1", patron=CARD)
        assert seq == 31
        journal.append("renew", "ok", intent=seq)
        assert journal.verify() == []
    with raw(path) as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM entries WHERE seq = 1")  # nothing is pruned: still refused
    with Journal.open_existing(path) as reader:  # opening again changes nothing
        assert [r.seq for r in reader.rows()][-3:] == [30, 31, 32] and reader.verify() == []


def test_a_reader_upgrades_a_version_1_journal_too(tmp_path):
    path = tmp_path / "journal.sqlite3"
    make_v1(path, 3)
    with Journal.open_existing(path) as reader:
        assert reader.open_intents() == [] and reader.verify() == []


def test_an_upgrade_that_fails_leaves_the_file_at_version_1(tmp_path):
    path = tmp_path / "journal.sqlite3"
    # A table in the way: the upgrade's CREATE fails half-way.
    make_v1(path, 5, extra=("CREATE TABLE probe (x)",))
    with pytest.raises(JournalError, match="probe already exists"):
        Journal.open(path, tmp_path / "patron.key")
    with raw(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "open_intents" not in tables and "pruned" not in tables
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM entries WHERE seq = 1")  # the v1 guard is still there
    assert os.path.getsize(path) > 0


def test_two_processes_upgrading_at_once_upgrade_once(tmp_path):
    path = tmp_path / "journal.sqlite3"
    make_v1(path, 10)
    script = ("import sys; from kiosk.journal import Journal\n"
              "with Journal.open_existing(sys.argv[1]) as j: print(j.verify())\n")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True) for _ in range(3)]
    assert [run.communicate()[0].strip() for run in runs] == ["[]"] * 3
    with Journal.open_existing(path) as reader:
        assert reader.verify() == [] and reader.stats().rows == 10
