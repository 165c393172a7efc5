"""No command dies of a full disk. On a real loop-mounted ext4 with 1 KB blocks, a crashed
kiosk's journal (its -wal kept, its -shm gone) and 4 to 28 KB left: SQLite's WAL index, mapped
into memory, has holes it cannot fill, and every command used to die with "Bus error" (exit
135). Each real command now runs in its own process, ends normally, and says that the data
partition is full."""

import os
import signal
import subprocess
import sys

import pytest

from kiosk import wal_index
from kiosk.errors import JournalError
from kiosk.journal import Journal, reserve
from tests import small_partition as part
from tests.conftest import ROOT

NO_LOOP = part.why_not()
pytestmark = pytest.mark.skipif(NO_LOOP is not None, reason=NO_LOOP or "")
BUS_ERROR = (135, -signal.SIGBUS)
FULL = "the data partition is full"


@pytest.fixture
def full_kiosk(tmp_path):
    """(working folder with k.toml, mount point); the disk filled per test."""
    with part.small_partition(tmp_path) as mnt:
        (tmp_path / "k.toml").write_text('[kiosk]\ndata_dir = "mnt/data"\n')
        part.crashed_journal(mnt / "data" / "journal.sqlite3")
        part.crashed_offline_store(mnt / "data" / "offline.sqlite3")  # the same guard
        yield tmp_path, mnt


@pytest.mark.parametrize("leave_kb", [4, 10, 16, 22, 28])
@pytest.mark.parametrize("command", [("journal", "stats"), ("journal", "verify"), ("doctor",)],
                         ids=lambda c: " ".join(c))
def test_commands_on_a_full_partition_say_so_and_live(full_kiosk, command, leave_kb):
    work, mnt = full_kiosk
    part.fill(mnt, leave_kb)
    done = part.kiosk(*command, "--config", "k.toml", cwd=work)
    output = done.stdout + done.stderr
    assert done.returncode not in BUS_ERROR, output
    assert "Traceback" not in output
    assert FULL in output, output
    if command[0] == "journal":  # it still reads the journal, the index kept in memory
        assert done.returncode == 0, output
        assert ("rows         200" if command[1] == "stats" else "sound (200 rows)") in output
    else:  # and the offline store, whose waiting transaction staff must not lose sight of
        assert "1 waiting for the library system" in output, output


def test_the_app_on_a_full_partition_says_so_and_does_not_die(full_kiosk):
    work, mnt = full_kiosk
    part.fill(mnt, 16)
    env = dict(os.environ, PYTHONPATH=str(ROOT), KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1")
    app = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", "k.toml"],
                           cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    seen = []
    for line in app.stdout:  # until it says so, or ends
        seen.append(line)
        if FULL in line:
            break
    app.terminate()
    try:
        app.wait(timeout=30)
    except subprocess.TimeoutExpired:
        app.kill()
        app.wait()
    output = "".join(seen)
    assert app.returncode not in BUS_ERROR, output
    assert FULL in output, output


def test_a_reader_beside_the_running_kiosk_uses_its_whole_index(tmp_path):
    """The kiosk allocates its WAL index in full at open; a command run beside it on a full
    disk maps that index as it is (no holes), sharing the file normally."""
    with part.small_partition(tmp_path) as mnt:
        path = mnt / "data" / "journal.sqlite3"
        kiosk = Journal.open(path, mnt / "data" / "patron.key")
        try:
            kiosk.append("session", "ok")
            assert wal_index.is_whole(path)
            part.fill(mnt, 0)
            (tmp_path / "k.toml").write_text('[kiosk]\ndata_dir = "mnt/data"\n')
            done = part.kiosk("journal", "stats", "--config", "k.toml", cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert "WAL index in memory" not in done.stderr  # shared, not exclusive
            assert "rows         1" in done.stdout and FULL in done.stdout
        finally:
            kiosk.close()


def test_the_reserve_gives_the_kiosk_room_to_write_again(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        data = mnt / "data"
        path = data / "journal.sqlite3"
        part.crashed_journal(path, rows=50)
        assert reserve.ensure(data, 512 * 1024)
        assert reserve.size(data) == 512 * 1024
        assert os.stat(reserve.reserve_path(data)).st_mode & 0o777 == 0o600
        part.fill(mnt, 0)
        assert not reserve.ensure(data, 1024 * 1024)  # no room for more: the old one stays
        assert reserve.size(data) == 512 * 1024
        (tmp_path / "k.toml").write_text('[kiosk]\ndata_dir = "mnt/data"\n')
        stats = part.kiosk("journal", "stats", "--config", "k.toml", cwd=tmp_path).stdout
        assert "and a 512 KB reserve the kiosk releases when it fills up" in stats
        assert FULL in stats
        doctor = part.kiosk("doctor", "--config", "k.toml", cwd=tmp_path).stdout
        assert FULL in doctor and "512 KB" in doctor
        with pytest.raises(JournalError) as refused:  # as the runtime meets it: full
            Journal.open(path, data / "patron.key")
        assert refused.value.cause == "full"
        assert reserve.release(data) and not reserve.release(data)
        with Journal.open(path, data / "patron.key") as journal:  # and now it can
            journal.append("admin", "out_of_service", detail={"cause": "full"})
            assert journal.stats().rows == 51
