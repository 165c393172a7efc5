"""The journal on real SQLite files: durable, append-only, chained, private, and crash-proof."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from kiosk.errors import JournalError
from kiosk.journal import Journal
from tests.conftest import ROOT

CARD = "23520001234566"


@pytest.fixture
def journal(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite3", tmp_path / "patron.key") as j:
        yield j


def raw(journal):
    """A plain SQLite connection to the same file, as a tool outside the kiosk would open it."""
    return sqlite3.connect(journal.path, isolation_level=None)


def test_rows_come_back_whole_and_in_order(journal):
    assert journal.append("session", "ok", detail={"seconds": 42}) == 1
    assert journal.append("checkout", "ok", item="33520000123453", title="红楼梦",
                          patron=CARD) == 2
    first, second = journal.rows()
    assert (first.kind, first.outcome, first.detail) == ("session", "ok", {"seconds": 42})
    assert (second.item, second.title) == ("33520000123453", "红楼梦")
    assert second.time_utc.endswith("Z") and second.time_utc >= first.time_utc
    assert second.boot_id == open("/proc/sys/kernel/random/boot_id").read().strip()
    assert second.clock_synced in (True, False, None)
    assert [r.seq for r in journal.rows(after_seq=1)] == [2]


def test_the_journal_is_durable_by_configuration(journal):
    db = journal._db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_patron_numbers_are_stored_only_as_a_keyed_hash(journal, tmp_path):
    journal.append("checkout", "ok", patron=CARD)
    journal.append("checkin", "ok", patron=f" {CARD} ")
    journal.append("checkout", "ok", patron="23520009876541")
    hashes = [r.patron_hash for r in journal.rows()]
    assert hashes[0] == hashes[1] != hashes[2]
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("journal"))
    assert CARD.encode() not in on_disk
    assert oct(os.stat(tmp_path / "patron.key").st_mode & 0o777) == "0o600"
    # Another kiosk (another key) gives another hash: hashes cannot be matched across kiosks.
    with Journal.open(tmp_path / "other.sqlite3", tmp_path / "other.key") as other:
        other.append("checkout", "ok", patron=CARD)
        assert next(other.rows()).patron_hash != hashes[0]


def test_rows_cannot_be_changed_or_removed(journal):
    journal.append("checkout", "ok", title="红楼梦")
    with raw(journal) as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE entries SET title = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM entries")
    assert next(journal.rows()).title == "红楼梦"


def test_verify_accepts_a_sound_journal_and_finds_tampering(journal):
    for n in range(5):
        journal.append("checkout", "ok", item=f"item-{n}")
    assert journal.verify() == []
    db = raw(journal)
    db.execute("DROP TRIGGER entries_no_update")
    db.execute("DROP TRIGGER entries_no_delete")
    db.execute("UPDATE entries SET item = 'forged' WHERE seq = 2")
    db.execute("DELETE FROM entries WHERE seq = 4")
    db.close()
    problems = journal.verify()
    assert "the append-only guard entries_no_update is missing" in problems
    assert any("row 2 does not match its chain" in p for p in problems)
    assert "rows 4 to 4 are missing" in problems


def test_upload_progress_only_moves_forward(journal):
    for _ in range(4):
        journal.append("session", "ok")
    assert journal.unsent_count() == 4
    journal.mark_sent(3)
    journal.mark_sent(2)  # a late answer to an older batch must not resend rows
    assert (journal.sent_upto(), journal.unsent_count()) == (3, 1)
    with pytest.raises(JournalError, match="last is 4"):
        journal.mark_sent(9)


def test_stats_count_rows_by_kind_and_outcome(journal):
    for kind, outcome in [("session", "ok"), ("session", "timeout"), ("session", "ok"),
                          ("admin", "pin_wrong")]:
        journal.append(kind, outcome)
    journal.mark_sent(1)
    stats = journal.stats()
    assert ((stats.rows, stats.first_seq, stats.last_seq, stats.unsent, stats.boots)
            == (4, 1, 4, 3, 1))
    assert stats.counts == {("admin", "pin_wrong"): 1, ("session", "ok"): 2,
                            ("session", "timeout"): 1}
    assert stats.first_time <= stats.last_time and stats.size_bytes > 0


def test_an_empty_journal_has_plain_stats(journal):
    stats = journal.stats()
    assert (stats.rows, stats.first_seq, stats.unsent, stats.counts) == (0, None, 0, {})
    assert journal.verify() == []


def test_a_reader_cannot_append_and_a_missing_file_is_named(journal, tmp_path):
    journal.append("session", "ok")
    with Journal.open_existing(journal.path) as reader:
        assert reader.stats().rows == 1
        with pytest.raises(JournalError, match="opened for reading"):
            reader.append("session", "ok")
    with pytest.raises(JournalError, match="no journal here"):
        Journal.open_existing(tmp_path / "nowhere.sqlite3")


@pytest.mark.parametrize("content, message", [
    (b"this is a text file, not a database" * 100, "not a readable journal"),
    (None, "holds other tables"),
    ("newer", "made by a newer kiosk"),
])
def test_foreign_files_are_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "journal.sqlite3"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE books (id)")
            if content == "newer":
                db.execute("PRAGMA user_version = 99")
    with pytest.raises(JournalError, match=message):
        Journal.open(path, tmp_path / "patron.key")
    if isinstance(content, bytes):
        assert path.read_bytes() == content  # never overwritten


def test_the_offline_store_is_never_taken_for_a_journal(tmp_path):
    from kiosk.ils.offline_store import OfflineStore
    path = tmp_path / "offline.sqlite3"
    OfflineStore(path, tmp_path / "patron.key").close()
    before = path.read_bytes()
    with pytest.raises(JournalError, match="not a kiosk journal \\(another database\\)"):
        Journal.open(path, tmp_path / "patron.key")
    assert path.read_bytes() == before


def test_a_damaged_patron_key_stops_the_journal(tmp_path):
    key = tmp_path / "patron.key"
    key.write_text("not hex at all\n")
    with pytest.raises(JournalError, match="patron key unreadable"):
        Journal.open(tmp_path / "journal.sqlite3", key)
    key.write_text("abcd\n")
    with pytest.raises(JournalError, match="64 hex digits"):
        Journal.open(tmp_path / "journal.sqlite3", key)


def test_an_open_patron_key_is_made_private(tmp_path, caplog):
    key = tmp_path / "patron.key"
    key.write_text("ab" * 32 + "\n")
    key.chmod(0o644)
    Journal.open(tmp_path / "journal.sqlite3", key).close()
    assert key.stat().st_mode & 0o777 == 0o600
    assert "readable by others" in caplog.text


def test_a_detail_that_is_not_json_is_still_recorded(journal):
    journal.append("error", "internal", detail={"when": object()})
    assert "object" in next(journal.rows()).detail["when"]


def start_writer(tmp_path, tag, pause_s=0.0):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.journal_writer", str(tmp_path / "journal.sqlite3"),
         str(tmp_path / "patron.key"), tag, str(pause_s)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_writers_killed_mid_write_lose_no_committed_row(tmp_path):
    """SIGKILL at random moments, 25 times: every row a writer reported stays, and verify passes."""
    rng = random.Random(20141)
    committed: dict[int, str] = {}
    for round_no in range(25):
        writer = start_writer(tmp_path, f"r{round_no}")
        first = writer.stdout.readline()  # running, and past opening the file
        time.sleep(rng.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        rest = writer.stdout.read()
        writer.wait()
        # Only whole lines were reported: the kill may cut the last one short.
        for line in (first + rest).split("\n")[:-1]:
            seq, item = line.split()
            committed[int(seq)] = item
    assert len(committed) >= 25  # a first row each; how many more depends on the machine's speed
    with Journal.open_existing(tmp_path / "journal.sqlite3") as journal:
        stored = {row.seq: row.item for row in journal.rows()}
        assert journal.verify() == []
    assert all(stored.get(seq) == item for seq, item in committed.items())
    assert sorted(stored) == list(range(1, len(stored) + 1))
    cli = subprocess.run([sys.executable, "-m", "kiosk", "journal", "verify",
                          "--file", str(tmp_path / "journal.sqlite3")],
                         cwd=ROOT, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "sound" in cli.stdout


def test_two_writers_at_once_share_one_unbroken_sequence(tmp_path):
    Journal.open(tmp_path / "journal.sqlite3", tmp_path / "patron.key").close()
    # SQLite's write lock is not queued: a writer appending in a tight loop can keep the other
    # out past any busy timeout. The kiosk's writers pause between rows (a patron's next book);
    # these pause at least as long as each append took, so the lock is free half the time
    # however slow a loaded machine makes the fsync.
    writers = [start_writer(tmp_path, tag, pause_s=0.005) for tag in ("a", "b")]
    for writer in writers:  # both are writing, each has committed a few rows
        for _ in range(5):
            assert writer.stdout.readline(), "a writer stopped before writing"
    for writer in writers:
        writer.send_signal(signal.SIGKILL)
        writer.communicate()
    with Journal.open_existing(tmp_path / "journal.sqlite3") as journal:
        rows = list(journal.rows())
        assert journal.verify() == []
    assert {r.item.split("-")[0] for r in rows} == {"a", "b"}
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))


def test_a_foreign_database_is_left_exactly_as_it_was(tmp_path):
    path = tmp_path / "library.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE books (id)")
    before = path.read_bytes()
    with pytest.raises(JournalError, match="holds other tables"):
        Journal.open(path, tmp_path / "patron.key")
    assert path.read_bytes() == before  # not even switched to WAL
    assert not path.with_name(path.name + "-wal").exists()


def test_a_key_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "keys"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(JournalError, match="cannot create the patron key"):
        Journal.open(tmp_path / "journal.sqlite3", blocker / "patron.key")
