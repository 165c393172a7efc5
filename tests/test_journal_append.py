"""Appending at SQLite's own speed, and staying true: the pages each row costs in the WAL, the
chain head kept in memory yet right after every kind of failure and every other writer, the
schema without the time index (and its upgrade), export by date with a clock set back.

Timings are for bench/journal_append.py; these check what is exact: pages, statements, rows.
"""

import subprocess
import sys
from datetime import timedelta

import pytest

from kiosk.errors import JournalError
from kiosk.journal import Journal, schema, store
from tests import small_partition as part
from tests import wal_pages
from tests.conftest import ROOT
from tests.journal_rows import add_rows, days_ago
from tests.journal_v1 import make_v1
from tests.journal_v2 import make_v2

NO_LOOP = part.why_not()
needs_loop = pytest.mark.skipif(NO_LOOP is not None, reason=NO_LOOP or "")
CARD = "23520001234566"
ROWS = 200
MOST_PAGES_PER_ROW = 1.5  # issue 20; a plain INSERT of the same rows writes about 1.1


@pytest.fixture
def path(tmp_path):
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def journal(path):
    with Journal.open(path, path.with_name("patron.key")) as j:
        yield j


def checkout(journal, n):
    """A row as a checkout writes it: item, title, patron and a small detail."""
    return journal.append("checkout", "ok", item=f"3352{n:010d}", title="红楼梦（脂评汇校本）",
                          patron=CARD, detail={"seconds": n % 300, "due": "2026-12-28"})


def seqs_and_sound(path):
    with Journal.open_existing(path) as reader:
        seqs = [row.seq for row in reader.rows()]
        assert reader.verify() == []
    first = seqs[0] if seqs else 1
    assert seqs == list(range(first, first + len(seqs)))
    return seqs


# --- what a row costs ---------------------------------------------------------------------

def test_an_append_writes_at_most_one_and_a_half_wal_pages(journal, path):
    for n in range(20):  # past the first pages of a new file
        checkout(journal, n)
    wal_pages.empty_wal(path)
    for n in range(ROWS):
        checkout(journal, n)
    pages = wal_pages.frames(path) / ROWS
    assert pages <= MOST_PAGES_PER_ROW, f"{pages:.2f} WAL pages per row"


def traced(journal, write):
    """The statements `write()` runs on the journal's connection."""
    statements: list[str] = []
    journal._db.set_trace_callback(statements.append)
    try:
        write()
    finally:
        journal._db.set_trace_callback(None)
    return statements


def test_the_chain_head_is_not_read_from_the_file_on_each_append(journal):
    checkout(journal, 0)
    statements = traced(journal, lambda: [checkout(journal, n) for n in range(1, 4)])
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert reads == [], reads
    assert sum(" INTO entries " in s for s in statements) == 3
    assert seqs_and_sound(journal.path) == [1, 2, 3, 4]


def test_an_append_is_a_plain_inserts_three_statements(journal):
    """BEGIN, INSERT, COMMIT, as a plain INSERT of the row: whether the head is still the
    file's is asked inside the INSERT, not by a statement of its own."""
    checkout(journal, 0)
    statements = traced(journal, lambda: [checkout(journal, n) for n in range(1, 4)])
    assert [s.split()[0].upper() for s in statements] == ["BEGIN", "INSERT", "COMMIT"] * 3
    assert seqs_and_sound(journal.path) == [1, 2, 3, 4]


def test_a_new_journal_has_no_time_index_and_no_insert_trigger(journal):
    objects = {(kind, name) for kind, name in journal._db.execute(
        "SELECT type, name FROM sqlite_master WHERE tbl_name = 'entries'")}
    # The table's own and the append-only guards (they fire on UPDATE and DELETE only).
    assert objects == {("table", "entries"), ("trigger", "entries_no_update"),
                       ("trigger", "entries_no_delete")}
    assert journal._db.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION == 3


# --- the head in memory stays true --------------------------------------------------------

def test_a_row_refused_inside_the_transaction_leaves_the_head_as_it_was(journal):
    checkout(journal, 1)
    # Fails after the row's seq and chain were taken, inside the transaction: rolled back.
    journal._db.execute("""CREATE TEMP TRIGGER doom AFTER INSERT ON main.entries
                           WHEN NEW.kind = 'doomed' BEGIN SELECT RAISE(ABORT, 'injected'); END""")
    with pytest.raises(JournalError, match="injected"):
        journal.append("doomed", "ok")
    with pytest.raises(JournalError):
        journal.append("settled", "ok", intent=1)  # not an open intent: refused, rolled back
    assert checkout(journal, 2) == 2
    assert seqs_and_sound(journal.path) == [1, 2]


def test_rows_another_process_appends_are_followed(journal, path):
    checkout(journal, 1)
    script = ("import sys\nfrom kiosk.journal import Journal\n"
              "with Journal.open(sys.argv[1], sys.argv[2]) as j:\n"
              "    for n in range(3): j.append('session', 'ok', detail={'other': n})\n")
    subprocess.run([sys.executable, "-c", script, str(path), str(path.with_name("patron.key"))],
                   cwd=ROOT, check=True)
    assert checkout(journal, 2) == 5
    add_rows(path, 4, start=days_ago(1), step=timedelta(minutes=1))  # a plain connection
    assert checkout(journal, 3) == 10
    assert seqs_and_sound(path) == list(range(1, 11))


def test_the_uploaders_mark_leaves_the_head_known(journal, path):
    """Another connection's commit that adds no row (the uploader's mark) is no reason to read
    the head again: the INSERT itself finds whether the row's seq is free and the prune mark
    below it (rows are removed only under the mark, and only the mark's chain stays)."""
    for n in range(3):
        checkout(journal, n)
    with Journal.open_existing(path) as uploader:
        uploader.mark_sent(2)
    statements = traced(journal, lambda: checkout(journal, 3))
    assert [s.split()[0].upper() for s in statements] == ["BEGIN", "INSERT", "COMMIT"]
    assert seqs_and_sound(path) == [1, 2, 3, 4]


def test_rows_another_writer_added_and_the_prune_took_are_followed(tmp_path, path):
    """The other writer's rows are gone (pruned) and the row after the kiosk's head is free:
    the prune mark above the head sends the kiosk to the file for its head."""
    with Journal.open(path, path.with_name("patron.key")) as kiosk:
        kiosk.append("session", "ok")
        last = add_rows(path, 5, start=days_ago(900), step=timedelta(days=1), sent_upto=6)
        with Journal.open_existing(path) as uploader:
            assert uploader.prune(400).upto == last
        assert kiosk.append("session", "ok") == last + 1
        assert kiosk.verify() == []


def test_a_prune_of_every_row_by_the_uploader_is_followed(tmp_path, path):
    with Journal.open(path, path.with_name("patron.key")) as kiosk:
        kiosk.append("session", "ok")
        # Old rows from elsewhere (a clock that was set), all uploaded, then pruned by the
        # command staff run: the kiosk's next row follows the prune mark.
        last = add_rows(path, 30, start=days_ago(900), step=timedelta(days=1), sent_upto=31)
        config = tmp_path / "kiosk.toml"
        config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
        done = subprocess.run([sys.executable, "-m", "kiosk", "journal", "prune", "--config",
                               str(config), "--keep-days", "400"], cwd=ROOT, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0 and "31 rows pruned" in done.stdout, done.stdout + done.stderr
        assert kiosk.stats().rows == 0
        assert kiosk.append("session", "ok") == last + 1
        assert kiosk.verify() == []


def test_a_restart_goes_on_from_the_file(path):
    for _ in range(2):
        with Journal.open(path, path.with_name("patron.key")) as journal:
            checkout(journal, 1)
            checkout(journal, 2)
    add_rows(path, 3, start=days_ago(1), step=timedelta(minutes=1))  # while it was stopped
    with Journal.open(path, path.with_name("patron.key")) as journal:
        assert checkout(journal, 3) == 8
    assert seqs_and_sound(path) == list(range(1, 9))


@needs_loop
def test_appends_after_a_full_partition_go_on_from_the_last_committed_row(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        path = mnt / "data" / "journal.sqlite3"
        with Journal.open(path, path.with_name("patron.key")) as journal:
            checkout(journal, 0)
            filler = part.fill(mnt, 0)
            causes = []
            for n in range(1, 300):
                try:
                    checkout(journal, n)
                except JournalError as e:
                    causes.append(e.cause)
            assert causes and set(causes) == {"full"}, causes
            filler.unlink()
            last = checkout(journal, 1000)
        seqs = seqs_and_sound(path)
        assert seqs[-1] == last and len(seqs) == 300 - len(causes) + 1


@needs_loop
def test_a_partition_gone_read_only_takes_no_row_and_loses_none(tmp_path):
    with part.small_partition(tmp_path, options="errors=remount-ro") as mnt:
        path = mnt / "data" / "journal.sqlite3"
        with Journal.open(path, path.with_name("patron.key")) as journal:
            checkout(journal, 1)
            if not part.make_read_only_under_writers(mnt):
                pytest.skip("this kernel cannot be asked for an ext4 error")
            for n in (2, 3):  # each refused, neither taken for written
                with pytest.raises(JournalError) as fault:
                    checkout(journal, n)
                assert fault.value.cause == "read_only"
        assert seqs_and_sound(path) == [1]


# --- version 3: no time index ---------------------------------------------------------------

@pytest.mark.parametrize("incremental", [True, False], ids=["made-as-v2", "upgraded-from-v1"])
def test_a_version_2_journal_is_upgraded_and_still_verifies(path, incremental):
    make_v2(path, 40, sent_upto=12, incremental=incremental)
    with Journal.open(path, path.with_name("patron.key")) as journal:
        db = journal._db
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'entries_time'"
                          ).fetchone()[0] == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert journal.verify() == [] and journal.sent_upto() == 12
        assert [r.item for r in journal.rows()][:2] == ["item-1", "item-2"]
        assert checkout(journal, 41) == 41
    assert seqs_and_sound(path) == list(range(1, 42))


def test_a_version_1_journal_is_upgraded_all_the_way(path):
    make_v1(path, 10, sent_upto=3)
    with Journal.open(path, path.with_name("patron.key")) as journal:
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == 3
        assert checkout(journal, 11) == 11 and journal.verify() == []


@needs_loop
def test_a_version_2_journal_on_a_read_only_partition_is_read_as_it_is(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        path = mnt / "journal.sqlite3"
        make_v2(path, 5, sent_upto=2)
        part.remount(mnt, "ro")
        with Journal.open_existing(path) as reader:
            assert reader._db.execute("PRAGMA user_version").fetchone()[0] == 2
            assert [r.seq for r in reader.rows()] == [1, 2, 3, 4, 5]
            assert reader.verify() == [] and reader.sent_upto() == 2
            assert reader.stats().rows == 5


# --- export by date when the clock went back -------------------------------------------------

TIMES = ("2026-11-20T10:00:00.000Z", "2026-11-21T10:00:00.000Z", "2026-11-22T10:00:00.000Z",
         # the clock set back (NTP after a clock that ran fast): rows out of time order
         "2026-11-20T12:00:00.000Z", "2026-11-21T12:00:00.000Z", "2026-11-23T09:00:00.000Z")


@pytest.fixture
def clock_set_back(journal, monkeypatch):
    times = iter(TIMES)
    monkeypatch.setattr(store, "utc_now", lambda: next(times))
    for n in range(len(TIMES)):
        checkout(journal, n)
    monkeypatch.undo()
    return journal


def test_export_by_date_takes_each_rows_own_time_when_the_clock_went_back(clock_set_back):
    day = [r.seq for r in clock_set_back.rows(since_utc="2026-11-21T00:00:00.000Z",
                                              until_utc="2026-11-22T00:00:00.000Z")]
    assert day == [2, 5]
    since = [r.seq for r in clock_set_back.rows(since_utc="2026-11-21T00:00:00.000Z")]
    assert since == [2, 3, 5, 6]
    until = [r.seq for r in clock_set_back.rows(until_utc="2026-11-21T00:00:00.000Z")]
    assert until == [1, 4]


def test_export_by_date_from_the_command_line_when_the_clock_went_back(clock_set_back):
    import json
    import os
    out = subprocess.run([sys.executable, "-m", "kiosk", "journal", "export", "--file",
                          str(clock_set_back.path), "--format", "jsonl", "--since", "2026-11-21",
                          "--until", "2026-11-21"], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, TZ="UTC"), check=True).stdout
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [2, 5]


def test_export_by_date_streams_in_seq_order_without_sorting(journal):
    plan = " / ".join(row[-1] for row in journal._db.execute(
        "EXPLAIN QUERY PLAN SELECT seq FROM entries WHERE seq > ? AND time_utc >= ? "
        "AND time_utc < ? ORDER BY seq", (0, "a", "b")))
    assert "TEMP B-TREE" not in plan, plan  # nothing held back to sort before the first row


def test_the_prune_finds_the_same_rows_without_the_index(path):
    """How old a row is still comes from its own time: rows set back stay when young."""
    add_rows(path, 10, start=days_ago(600), step=timedelta(days=1))
    add_rows(path, 3, start=days_ago(2), step=timedelta(hours=1))  # young
    add_rows(path, 4, start=days_ago(700), step=timedelta(days=1), sent_upto=17)  # set back
    with Journal.open_existing(path) as journal:
        assert journal.prune(400).upto == 10
        assert journal.verify() == []


# --- the row's parts, made faster, are the same ------------------------------------------

def test_the_keyed_patron_hash_is_the_plain_hmac(tmp_path):
    from kiosk.journal import patron_key
    for key in (b"k" * 32, bytes(range(64)), b"x" * 100):  # short, block-long, hashed first
        hasher = patron_key.PatronHasher(key)
        for card in ("", "23520001234566", " 2352 ", "读者卡"):
            assert hasher(card) == patron_key.patron_hash(key, card)


def test_the_time_of_a_row_is_utc_text_of_now():
    from datetime import datetime, timezone
    before = datetime.now(timezone.utc).replace(microsecond=0)
    text = store.utc_now()
    after = datetime.now(timezone.utc)
    assert store.utc_text(store.parse_utc(text)) == text  # the form utc_text writes
    assert before <= store.parse_utc(text) <= after


def test_the_chain_value_is_the_one_existing_journals_were_written_with():
    import hashlib
    import json
    tricky = ["红楼梦", "a\"b\\c", "\x00\x1f\x7f", "😀", "", "=1+2", "\u2028"]
    for n, text in enumerate(tricky):
        row = {"seq": n + 1, "time_utc": "2026-11-20T10:00:00.000Z", "boot_id": text,
               "clock_synced": (None, 0, 1)[n % 3], "kind": text or "k", "outcome": "ok",
               "item": text, "title": None, "patron_hash": "ab" * 32, "detail": text}
        body = json.dumps([row[name] for name in schema.FIELDS], ensure_ascii=False,
                          separators=(",", ":"))  # as version 1 and 2 wrote them
        assert schema.chain_value("0" * 64, row) == hashlib.sha256(
            ("0" * 64 + body).encode("utf-8")).hexdigest()
    # Values of other types than a row's own (text or None; int seq and clock flag), as a
    # caller might pass them, are written by the json module as before.
    for odd in ({"item": 42}, {"title": True}, {"clock_synced": True}, {"detail": 1.5},
                {"kind": ["a"]}, {"seq": True}, {"clock_synced": 1.0}):
        row = {**row, **odd}
        body = json.dumps([row[name] for name in schema.FIELDS], ensure_ascii=False,
                          separators=(",", ":"))
        assert schema.chain_value("ab" * 32, row) == hashlib.sha256(
            ("ab" * 32 + body).encode("utf-8")).hexdigest(), odd
    # And any text at all (every code point but the lone surrogates UTF-8 cannot hold).
    import random
    draw = random.Random(20)
    for _ in range(300):
        text = "".join(chr(draw.choice((draw.randrange(0x80), draw.randrange(0xD800),
                                        draw.randrange(0xE000, 0x110000))))
                       for _ in range(draw.randrange(12)))
        row = {name: text for name in schema.FIELDS}
        row.update(seq=draw.randrange(1, 10**12), clock_synced=draw.choice((None, 0, 1)),
                   item=draw.choice((None, text)))
        assert schema.chain_value(text, row) == hashlib.sha256((text + json.dumps(
            [row[name] for name in schema.FIELDS], ensure_ascii=False,
            separators=(",", ":"))).encode("utf-8")).hexdigest()


def test_the_detail_text_is_the_json_modules_and_a_loop_is_refused_as_before(journal):
    import json
    from datetime import date

    from kiosk.journal import json_text
    encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
    encode = json_text.encode_with(encoder)
    detail = {"z": [1, 2.5, None, True], "a": {"书": "红楼梦\n\"", "n": -3},
              "when": date(2026, 12, 7)}
    assert encode(detail) == json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    loop: dict = {"n": 1}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference"):
        journal.append("session", "ok", detail=loop)
    assert journal.append("session", "ok", detail={"n": 1}) == 1


def test_a_patrons_rows_hash_the_card_once_and_another_card_anew(tmp_path, monkeypatch):
    """A checkout writes an intent and an outcome for each item, all with the same card: the
    HMAC is made for its first row only, and a new card is hashed anew, never mixed up."""
    from kiosk.journal import patron_key
    key = b"k" * 32
    hasher = patron_key.PatronHasher(key)
    made: list[bytes] = []
    real_copy = hasher._outer.copy

    class Counted:
        def copy(self):
            made.append(b"")
            return real_copy()

    monkeypatch.setattr(hasher, "_outer", Counted())
    cards = ["23520001234566"] * 4 + ["23520009999999"] * 2 + ["23520001234566"]
    assert [hasher(card) for card in cards] == [patron_key.patron_hash(key, c) for c in cards]
    assert len(made) == 3  # the first card, the second, the first again
