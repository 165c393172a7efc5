"""Journal faults named truly: a full or read-only data partition (real loop-mounted ext4), a
journal deleted, swapped or cut short under the running kiosk, a damaged file. Each ends in a
JournalError whose cause and message say what happened and what to do, and nothing is written
anywhere else."""

import os
import sqlite3
import subprocess
import sys

import pytest

from kiosk import sqlite_faults
from kiosk.errors import JournalError
from kiosk.journal import Journal
from tests import small_partition as part
from tests.conftest import ROOT

NO_LOOP = part.why_not()
needs_loop = pytest.mark.skipif(NO_LOOP is not None, reason=NO_LOOP or "")


@pytest.fixture
def journal(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite3", tmp_path / "patron.key") as j:
        j.append("session", "ok")
        yield j


def fault_of(call, *args, **kwargs) -> JournalError:
    with pytest.raises(JournalError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- replaced under the running kiosk -----------------------------------------------------

def test_a_journal_deleted_under_the_kiosk_takes_no_more_rows(journal):
    os.unlink(journal.path)
    fault = fault_of(journal.append, "checkout", "ok", item="x")
    assert fault.cause == "replaced"
    assert "deleted, replaced or cut short while the kiosk was running" in str(fault)
    assert "restart the kiosk" in str(fault)
    assert not journal.path.exists()  # nothing was written anywhere
    assert fault_of(journal.check).cause == "replaced"
    assert fault_of(journal.probe).cause == "replaced"


def test_a_journal_swapped_for_another_file_is_left_alone(journal, tmp_path):
    other = tmp_path / "other.sqlite3"
    with Journal.open(other, tmp_path / "patron.key") as j:
        j.append("session", "timeout")
    content = other.read_bytes()
    os.replace(other, journal.path)
    fault = fault_of(journal.append, "checkout", "ok")
    assert fault.cause == "replaced" and "another file is in its place" in str(fault)
    assert journal.path.read_bytes() == content  # neither written nor changed


def test_a_journal_cut_short_under_the_kiosk_is_not_written(journal):
    for _ in range(50):
        journal.append("session", "ok", detail={"pad": "x" * 500})
    journal._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.truncate(journal.path, 0)
    fault = fault_of(journal.append, "checkout", "ok")
    assert fault.cause == "replaced" and "it is 0 bytes long" in str(fault)
    assert journal.path.stat().st_size == 0
    assert fault_of(journal.check).cause == "replaced"


def test_the_identity_check_is_quiet_while_all_is_well(journal):
    journal.check()
    journal.check(integrity=True)
    journal.probe()
    before = journal.stats().rows
    journal.probe()
    assert journal.stats().rows == before  # a probe adds no row


# --- damaged ------------------------------------------------------------------------------

def test_a_damaged_journal_is_found_at_open_and_named(tmp_path):
    path = tmp_path / "journal.sqlite3"
    with Journal.open(path, tmp_path / "patron.key") as j:
        for n in range(3000):
            j.append("checkout", "ok", item=f"item-{n}", detail={"n": n})
    with open(path, "r+b") as f:  # a page in the middle of the rows
        f.seek(30 * 4096 + 200)
        f.write(os.urandom(2000))
    fault = fault_of(Journal.open, path, tmp_path / "patron.key")
    assert fault.cause == "damaged"
    assert "keep it for inspection" in str(fault)


def test_a_file_that_is_not_a_journal_is_damaged_not_full(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database" * 500)
    fault = fault_of(Journal.open, path, tmp_path / "patron.key")
    assert fault.cause == "damaged" and "not a readable journal" in str(fault)


# --- a disk I/O error looked at closely ---------------------------------------------------

def io_error(code: int, name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode, error.sqlite_errorname = code, name
    return error


def test_causes_from_sqlite_codes(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"")
    assert sqlite_faults.cause_of(io_error(13, "SQLITE_FULL"), path) == "full"
    assert sqlite_faults.cause_of(io_error(8 | 2 << 8, "SQLITE_READONLY_CANTLOCK"), path) \
        == "read_only"
    assert sqlite_faults.cause_of(io_error(1032, "SQLITE_READONLY_DBMOVED"), path) == "replaced"
    assert sqlite_faults.cause_of(io_error(11, "SQLITE_CORRUPT"), path) == "damaged"
    assert sqlite_faults.cause_of(io_error(26, "SQLITE_NOTADB"), path) == "damaged"
    # A disk I/O error on a healthy, roomy, writable partition is the disk's own.
    assert sqlite_faults.cause_of(io_error(10 | 3 << 8, "SQLITE_IOERR_WRITE"), path) == "io"
    assert sqlite_faults.cause_of(OSError(28, "No space left on device"), path) == "full"
    assert sqlite_faults.cause_of(OSError(30, "Read-only file system"), path) == "read_only"


@needs_loop
def test_a_disk_io_error_on_a_full_partition_is_named_full(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        part.fill(mnt, 0)
        path = mnt / "journal.sqlite3"
        assert sqlite_faults.cause_of(io_error(10 | 3 << 8, "SQLITE_IOERR_WRITE"), path) == "full"


# --- full and read-only partitions, with the kiosk's journal in a child process -----------

class Child:
    """tests.journal_child: the journal in another process, one command a line."""

    def __init__(self, path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.journal_child", str(path),
             str(path.with_name("patron.key"))], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        self.first = self.process.stdout.readline().strip()

    def __call__(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.stdin.close()
        return self.process.wait(timeout=30)


@needs_loop
def test_a_partition_filling_under_the_kiosk_is_named_full_and_recovers(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        child = Child(mnt / "data" / "journal.sqlite3")
        assert child.first == "opened"
        assert child("append").startswith("ok")
        filler = part.fill(mnt, 0)
        answers = [child("append") for _ in range(200)]
        failed = [a for a in answers if a.startswith("error")]
        assert failed, "the partition never filled up"
        assert all(a.startswith("error full ") for a in failed), failed[0]
        assert "the data partition is full" in failed[0]
        assert "move it aside" not in failed[0]  # advice that would lose the journal
        assert child("probe").startswith("error full")
        filler.unlink()
        assert child("probe") == "ok"  # writing works again: the kiosk can come back
        assert child("append").startswith("ok")
        assert child.close() == 0  # never a Bus error
    assert not failed[0].startswith("error io")


@needs_loop
def test_a_read_only_data_partition_at_start_is_named_so(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        data = mnt / "data"
        with Journal.open(data / "journal.sqlite3", data / "patron.key") as j:
            j.append("session", "ok")
        part.remount(mnt, "ro")
        child = Child(data / "journal.sqlite3")
        assert child.first.startswith("error read_only ")
        assert "the data partition is read-only" in child.first
        assert "free space" not in child.first
        child.close()
        with Journal.open_existing(data / "journal.sqlite3") as reader:  # still readable
            assert reader.stats().rows == 1
            assert fault_of(reader.probe).cause == "read_only"


@needs_loop
def test_a_partition_the_kernel_makes_read_only_under_the_kiosk(tmp_path):
    with part.small_partition(tmp_path, options="errors=remount-ro") as mnt:
        child = Child(mnt / "data" / "journal.sqlite3")
        assert child("append").startswith("ok")
        if not part.make_read_only_under_writers(mnt):
            child.close()
            pytest.skip("this kernel cannot be asked for an ext4 error")
        answer = child("append")
        assert answer.startswith("error read_only "), answer
        assert "the data partition is read-only" in answer and "dmesg" in answer
        assert child.close() == 0


@needs_loop
def test_no_room_for_the_index_is_full_before_anything_is_touched(tmp_path):
    """A crashed kiosk's journal (-wal kept, -shm gone) on a partition with a few KB left: the
    writer refuses ("full") instead of mapping an index it cannot fill (SIGBUS)."""
    with part.small_partition(tmp_path) as mnt:
        path = mnt / "data" / "journal.sqlite3"
        part.crashed_journal(path)
        part.fill(mnt, 16)
        child = Child(path)
        assert child.first.startswith("error full "), child.first
        assert "needed for its index" in child.first
        assert child.close() == 0
        assert not path.with_name(path.name + "-shm").exists()


def test_a_data_folder_the_kiosk_may_not_write_is_named_so(tmp_path):
    """Not a full card, not a read-only card: a folder and files the kiosk may not change
    (made immutable here, which binds root too, as a wrong owner binds the kiosk user)."""
    data = tmp_path / "data"
    with Journal.open(data / "journal.sqlite3", data / "patron.key") as j:
        j.append("session", "ok")
    locked = [data / "journal.sqlite3", data]
    if subprocess.run(["chattr", "+i", *map(str, locked)], capture_output=True,
                      check=False).returncode:
        pytest.skip("chattr +i does not work here")
    try:
        fault = fault_of(Journal.open, data / "journal.sqlite3", data / "patron.key")
    finally:
        subprocess.run(["chattr", "-i", *map(str, locked)], check=True)
    assert fault.cause == "read_only", fault
    assert "the data folder is read-only for the kiosk" in str(fault)
    assert "give the kiosk's user write access" in str(fault)
