"""Retention: rows already uploaded and older than keep_days leave the journal as a prefix, the
chain goes on from the prune mark, and the space comes back; nothing else can be deleted."""

import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest

from kiosk import config as config_module
from kiosk.errors import JournalError
from kiosk.journal import Journal
from kiosk.journal import prune as prune_module
from kiosk.journal.store import utc_text
from tests.conftest import ROOT
from tests.journal_rows import add_rows, days_ago
from tests.journal_v1 import make_v1

DAY = timedelta(days=1)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "journal.sqlite3"


def old_and_new(path, *, old=50, new=10, sent=None):
    """`old` rows from 500 days ago, a day apart, then `new` rows from 5 days ago."""
    add_rows(path, old, start=days_ago(500), step=DAY)
    last = add_rows(path, new, start=days_ago(5), step=timedelta(hours=1))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE upload_state SET sent_upto = ?", (last if sent is None else sent,))
    return last


def test_only_uploaded_rows_older_than_keep_days_are_pruned(path):
    old_and_new(path, sent=30)
    with Journal.open_existing(path) as journal:
        result = journal.prune(400)
        assert (result.rows, result.upto, result.keep_days) == (30, 30, 400)
        assert [r.seq for r in journal.rows()][:1] == [31]  # 31..50 are old but not uploaded
        assert journal.verify() == []
        journal.mark_sent(60)
        assert journal.prune(400).upto == 50  # the young rows stay
        stats = journal.stats()
        assert (stats.first_seq, stats.last_seq, stats.pruned_upto) == (51, 60, 50)
        assert stats.pruned_keep_days == 400 and journal.verify() == []
        assert journal.prune(0).rows == 0  # 0 keeps every row


def test_rows_after_the_oldest_open_intent_are_kept(tmp_path, path, monkeypatch):
    add_rows(path, 10, start=days_ago(600), step=DAY)
    with Journal.open(path, tmp_path / "patron.key") as journal:
        intent = journal.open_intent("checkout", item="x", patron="23520001234566")
    add_rows(path, 10, start=days_ago(580), step=DAY, sent_upto=21)
    with Journal.open_existing(path) as journal:
        assert journal.prune(400).upto == intent - 1
        assert [r.seq for r in journal.open_intents()] == [intent]
        assert journal.verify() == []


def test_a_row_whose_clock_was_not_set_never_decides(path):
    # A Pi without network starts in the past: its rows look old but may be recent.
    add_rows(path, 10, start=days_ago(600), step=DAY)
    add_rows(path, 5, start=days_ago(900), step=DAY, synced=0)  # written since, clock unset
    last = add_rows(path, 5, start=days_ago(3), step=DAY, sent_upto=20)
    with Journal.open_existing(path) as journal:
        assert journal.prune(400).upto == 10
        assert journal.stats().last_seq == last and journal.verify() == []


def test_appending_goes_on_after_every_row_was_pruned(tmp_path, path):
    last = add_rows(path, 20, start=days_ago(900), step=DAY, sent_upto=20)
    with Journal.open_existing(path) as journal:
        assert journal.prune(400).upto == last
        assert journal.stats().rows == 0
    with Journal.open(path, tmp_path / "patron.key") as journal:
        assert journal.append("session", "ok") == last + 1  # the chain goes on from the mark
        assert journal.verify() == []


def test_the_schema_refuses_every_other_delete(path):
    old_and_new(path, sent=30)
    with Journal.open_existing(path) as journal:
        journal.prune(400)
    db = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM entries WHERE seq = 31")
    for sql, args in [("UPDATE pruned SET upto = 10", ()),  # backwards
                      ("UPDATE pruned SET upto = 40, chain = (SELECT chain FROM entries "
                       "WHERE seq = 40)", ()),  # beyond what was uploaded
                      ("UPDATE pruned SET upto = 31, chain = ?", ("0" * 64,))]:  # a false chain
        with pytest.raises(sqlite3.IntegrityError, match="only uploaded rows"):
            db.execute(sql, args)
    with pytest.raises(sqlite3.IntegrityError, match="cannot be removed"):
        db.execute("DELETE FROM pruned")
    db.close()


def test_verify_finds_rows_removed_behind_the_mark(path):
    old_and_new(path, sent=60)
    with Journal.open_existing(path) as journal:
        journal.prune(400)
    with sqlite3.connect(path) as db:  # pretend a prune, by hand, without moving the mark
        db.execute("DROP TRIGGER entries_no_delete")
        db.execute("DELETE FROM entries WHERE seq <= 52")
    with Journal.open_existing(path) as journal:
        problems = journal.verify()
    assert "rows 51 to 52 are missing" in problems
    assert "the append-only guard entries_no_delete is missing" in problems


def test_a_new_journal_gives_the_space_back(path):
    add_rows(path, 20_000, start=days_ago(900), step=timedelta(minutes=1), sent_upto=20_000)
    add_rows(path, 100, start=days_ago(1), step=timedelta(minutes=1))
    before = path.stat().st_size
    with Journal.open_existing(path) as journal:
        result = journal.prune(400)
    assert result.rows == 20_000 and result.reclaim.startswith("incremental vacuum")
    assert path.stat().st_size < before / 10 and result.freed_bytes > 0


def test_an_old_journal_is_vacuumed_once_when_small(path, monkeypatch):
    make_v1(path, 400, sent_upto=400)  # 2024 rows, auto_vacuum off as version 1 made them
    with Journal.open_existing(path) as journal:
        assert journal._db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
        result = journal.prune(400)
        assert result.rows == 400 and result.reclaim.startswith("vacuum")
        assert journal._db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert journal.verify() == []


def test_a_large_old_journal_keeps_its_free_pages_for_new_rows(path, monkeypatch):
    monkeypatch.setattr(prune_module, "CHEAP_VACUUM_BYTES", 0)  # too big to vacuum at once
    make_v1(path, 400, sent_upto=400)
    size = path.stat().st_size
    with Journal.open_existing(path) as journal:
        result = journal.prune(400)
        assert result.rows == 400 and "kept for new rows" in result.reclaim
        assert journal._db.execute("PRAGMA freelist_count").fetchone()[0] > 0
    assert path.stat().st_size >= size


def test_the_running_kiosk_keeps_writing_while_the_uploader_prunes(tmp_path, path):
    """The kiosk's identity check sees a shorter file after a prune: recorded first, so it is
    still its journal, and rows go on being written to it."""
    add_rows(path, 20_000, start=days_ago(900), step=timedelta(minutes=1), sent_upto=20_000)
    with Journal.open(path, tmp_path / "patron.key") as kiosk:
        kiosk.append("session", "ok")
        size = path.stat().st_size
        with Journal.open_existing(path) as uploader:
            assert uploader.prune(400).rows == 20_000
        kiosk.append("session", "ok")  # its checkpoint cuts the file to its new length
        kiosk.check()
        assert path.stat().st_size < size
        assert kiosk.append("session", "ok") == 20_003
        assert kiosk.verify() == []


def test_the_schema_keeps_a_prune_from_passing_for_a_cut(tmp_path, path):
    add_rows(path, 20_000, start=days_ago(900), step=timedelta(minutes=1), sent_upto=20_000)
    with Journal.open(path, tmp_path / "patron.key") as kiosk:
        kiosk.append("session", "ok")
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size // 2)  # cut by something else: not a prune
        with pytest.raises(JournalError) as fault:
            kiosk.append("session", "ok")
        assert fault.value.cause == "replaced"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "kiosk", "journal", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, check=False)


def test_prune_verify_and_stats_from_the_command_line(tmp_path, path):
    old_and_new(path)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[journal]\nkeep_days = 30\n')
    done = cli("prune", "--config", config)
    assert done.returncode == 0, done.stderr
    assert "50 rows pruned" in done.stdout and "older than 30 days" in done.stdout
    assert "nothing to prune" in cli("prune", "--config", config).stdout
    verified = cli("verify", "--file", path)
    assert verified.returncode == 0
    assert "sound (10 rows)" in verified.stdout
    assert "rows 1 to 50 pruned (uploaded, older than 30 days)" in verified.stdout
    stats = cli("stats", "--file", path).stdout
    assert "pruned       rows 1 to 50" in stats
    assert "space        file " in stats and "partition    " in stats and " free of " in stats


def test_the_uploader_prunes_after_a_clean_run(tmp_path, path):
    from kiosk.upload.run import upload
    from tests.counting_server import TOKEN, CountingServer

    last = old_and_new(path, sent=0)
    (tmp_path / "central.token").write_text(TOKEN + "\n")
    with CountingServer(["500"]) as server:
        config_path = tmp_path / "kiosk.toml"
        config_path.write_text(f'[kiosk]\nid = "kiosk-1"\ndata_dir = "{tmp_path}"\n'
                               f'[central]\nurl = "{server.url}"\nretries = 0\n')
        config = config_module.load(config_path)
        failed = upload(config)  # the server failed: nothing is pruned
        assert failed.error and failed.pruned_rows == 0
        report = upload(config)
    assert report.error is None and report.pruned_rows == 50
    assert sum(server.totals.values()) == last  # every row was counted before it went
    with Journal.open_existing(path) as journal:
        assert journal.stats().first_seq == 51 and journal.sent_upto() == last


def test_the_cut_off_is_the_rows_own_time(path):
    add_rows(path, 3, start=days_ago(401.5), step=DAY, sent_upto=3)  # 401.5, 400.5, 399.5 days
    with Journal.open_existing(path) as journal:
        cutoff = utc_text(days_ago(400))
        assert prune_module.last_prunable(journal._db, cutoff) == 2


def test_the_kiosk_writes_between_every_step_of_a_prune(tmp_path, path):
    """The kiosk (another process) appends in each pause the prune leaves: the file gets
    shorter under it step by step, and it never takes that for a journal cut short."""
    from kiosk import wal_index
    from kiosk.journal.store import utc_text as text
    from tests.test_journal_faults import Child

    add_rows(path, 30_000, start=days_ago(900), step=timedelta(minutes=1), sent_upto=30_000)
    kiosk = Child(path)
    assert kiosk.first == "opened"
    answers = []
    with Journal.open_existing(path) as uploader:
        result = prune_module.prune(uploader._db, path, text(days_ago(400)), 400,
                                    wal_index.free_bytes(path.parent),
                                    pause=lambda _s: answers.append(kiosk("append")))
    assert result.rows == 30_000 and result.reclaim.startswith("incremental vacuum")
    assert len(answers) > 10 and all(a.startswith("ok ") for a in answers), answers
    assert kiosk("check") == "ok" and kiosk.close() == 0
    with Journal.open_existing(path) as journal:
        assert journal.verify() == [] and journal.stats().rows == len(answers)
