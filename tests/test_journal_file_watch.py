"""The journal file's identity checked without a stat() per row (issue 20), and still every
change under the running kiosk caught before a row is written: the file deleted, moved away,
swapped, cut short; its folder moved, replaced, reached through a symlink turned elsewhere, or a
partition mounted over it. Each test first appends with no stat of the path, then changes the
file or its path, and the next append must say "replaced" and write nowhere.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.errors import JournalError
from kiosk.journal import Journal
from tests import small_partition as part
from tests.conftest import ROOT

NO_MOUNT = part.why_not()
CARD = "23520001234566"


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def stats(monkeypatch):
    """The paths os.stat() was asked about, in order."""
    asked: list[str] = []
    real = os.stat

    def counted(path, *args, **kwargs):
        asked.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    return asked


def open_journal(folder):
    return Journal.open(folder / "journal.sqlite3", folder.parent / "patron.key")


def quiet_appends(journal, stats, rows=5):
    """Rows appended while nothing happens to the file: none stats its path."""
    journal.append("session", "ok")  # the first may look: opening tightened the folder
    stats.clear()
    for n in range(rows):
        journal.append("checkout", "ok", item=f"3352{n:010d}", patron=CARD, detail={"n": n})
    assert str(journal.path) not in stats


def refused(journal, *, because):
    with pytest.raises(JournalError) as caught:
        journal.append("checkout", "ok", item="33520000009999", patron=CARD)
    assert caught.value.cause == "replaced", str(caught.value)
    assert because in str(caught.value)


def another_journal(other):
    """A folder holding a journal of its own, with one row."""
    other.mkdir()
    with open_journal(other) as journal:
        journal.append("session", "timeout")
    return other


def rows_in(path):
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM entries").fetchone()[0]
    finally:
        db.close()


def test_rows_make_no_stat_of_the_path_while_nothing_happens(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats, rows=50)
        journal.check()  # the steady check still looks, every time
        assert stats.count(str(journal.path)) == 1


def test_a_deleted_journal_is_caught_without_a_stat_per_row(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        os.unlink(journal.path)
        refused(journal, because="the file is gone")
        assert not journal.path.exists()


def test_a_refused_journal_stays_refused_row_after_row(folder, stats):
    """The look that found the file gone set the watches on what the path names now: nothing
    happens after it, yet the next rows must be refused too, not written to the old file."""
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        moved = folder / "elsewhere.sqlite3"
        os.rename(journal.path, moved)
        for _ in range(3):
            refused(journal, because="the file is gone")
        another_journal(folder / "new")
        os.rename(folder / "new" / "journal.sqlite3", journal.path)
        refused(journal, because="another file is in its place")
        refused(journal, because="another file is in its place")
        # The writer's own connection still reads the moved file: the six rows, none added.
        assert journal._db.execute("SELECT count(*) FROM entries").fetchone()[0] == 6


def test_a_journal_moved_away_takes_no_row_there(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        moved = folder / "elsewhere.sqlite3"
        os.rename(journal.path, moved)
        refused(journal, because="the file is gone")
    # Closed: SQLite leaves the WAL of a moved file under the old name; the two hold 6 rows.
    os.rename(folder / "journal.sqlite3-wal", folder / "elsewhere.sqlite3-wal")
    assert rows_in(moved) == 6


def test_a_journal_swapped_for_another_is_caught(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        other = another_journal(folder.parent / "other")
        content = (other / "journal.sqlite3").read_bytes()
        os.replace(other / "journal.sqlite3", journal.path)
        refused(journal, because="another file is in its place")
        assert journal.path.read_bytes() == content


def test_a_journal_cut_short_is_caught(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        journal._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        journal.append("session", "ok")  # the checkpoint wrote the file: this one looks
        os.truncate(journal.path, 0)
        refused(journal, because="it is 0 bytes long")


def test_the_journals_folder_moved_is_caught(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        os.rename(folder, folder.with_name("moved"))
        refused(journal, because="the file is gone")
        assert rows_in(folder.with_name("moved") / "journal.sqlite3") == 6


def test_a_folder_put_in_the_place_of_the_journals_is_caught(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        other = another_journal(folder.parent / "other")
        os.rename(folder, folder.with_name("moved"))
        os.rename(other, folder)
        refused(journal, because="another file is in its place")
        assert rows_in(folder / "journal.sqlite3") == 1


def test_a_symlinked_folder_turned_elsewhere_is_caught(folder, stats, tmp_path):
    link = tmp_path / "kiosk"
    link.symlink_to(folder)
    with open_journal(link) as journal:
        quiet_appends(journal, stats)
        other = tmp_path / "other"
        other.mkdir()
        with open_journal(other) as j:
            j.append("session", "timeout")
        turned = tmp_path / "turned"
        turned.symlink_to(other)
        os.replace(turned, link)  # as `ln -sfn` does
        refused(journal, because="another file is in its place")
        assert rows_in(other / "journal.sqlite3") == 1


def renew_folder(folder: Path) -> Path:
    """The folder moved away to "old" and its files moved into a new folder of its name."""
    old = folder.with_name("old")
    os.rename(folder, old)
    folder.mkdir()
    for name in os.listdir(old):
        os.rename(old / name, folder / name)
    return old


def test_the_watch_follows_a_folder_renewed_under_the_same_name(folder, stats):
    """Moved away and the file moved into a new folder of the same name: the same file, so rows
    go on; the new folder is watched from then on, and moving it is caught."""
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        renew_folder(folder)
        journal.append("session", "ok")  # looks (something happened), finds its own file
        quiet_appends(journal, stats)
        os.rename(folder, folder.with_name("moved"))
        refused(journal, because="the file is gone")


@pytest.mark.skipif(NO_MOUNT is not None, reason=NO_MOUNT or "")
def test_a_partition_mounted_over_the_folder_is_caught(folder, stats):
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "none", str(folder)],
                       check=True)
        try:
            refused(journal, because="the file is gone")
        finally:
            subprocess.run(["umount", str(folder)], check=True)
        assert rows_in(folder / "journal.sqlite3") == 6


def test_the_uploaders_checkpoint_is_no_fault(folder, stats):
    """Another connection's checkpoint writes the file (an event): the look finds it whole."""
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        with Journal.open_existing(journal.path) as reader:
            reader._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        journal.append("session", "ok")
        assert str(journal.path) in stats
        quiet_appends(journal, stats)
        assert journal.verify() == []


def test_without_inotify_every_row_looks(folder, stats, monkeypatch):
    """No watch to be had (another system, or the kernel's limits reached): each row stats the
    path, as before, and the faults are caught the same."""
    from kiosk.journal import file_watch
    monkeypatch.setattr(file_watch, "_LIBC", None)
    with open_journal(folder) as journal:
        journal.append("session", "ok")
        stats.clear()
        for _ in range(3):
            journal.append("session", "ok")
        assert stats.count(str(journal.path)) == 3
        os.unlink(journal.path)
        refused(journal, because="the file is gone")


class CountedLibc:
    """The C library as file_watch calls it, counting the inotify instances made."""

    def __init__(self, libc):
        self._libc, self.instances = libc, 0

    def inotify_init1(self, flags):
        self.instances += 1
        return self._libc.inotify_init1(flags)

    def __getattr__(self, name):
        return getattr(self._libc, name)


def test_a_look_after_a_checkpoint_keeps_the_kernels_watches(folder, stats, monkeypatch):
    """The writer's own checkpoints write the file: an event, and a look, every few hundred
    rows. The look sets the watches again on the same inotify instance: closing one waits for
    the kernel (milliseconds), and a new watch on a folder walks the folder's entries."""
    from kiosk.journal import file_watch
    libc = CountedLibc(file_watch._LIBC)
    monkeypatch.setattr(file_watch, "_LIBC", libc)
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        made = libc.instances
        for _ in range(3):
            journal._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            stats.clear()
            journal.append("session", "ok")  # looks: the checkpoint wrote the file
            assert str(journal.path) in stats
            quiet_appends(journal, stats)
        assert libc.instances == made
        # Still watching: each fault is caught as before.
        os.rename(journal.path, folder / "elsewhere.sqlite3")
        refused(journal, because="the file is gone")


def test_a_folder_left_behind_is_no_longer_watched(folder, stats):
    """Watches on what the path no longer passes through are taken off at the next look: a
    folder the journal was moved out of can change without costing the writer a look."""
    with open_journal(folder) as journal:
        quiet_appends(journal, stats)
        old = renew_folder(folder)
        (old / "left").write_text("")
        journal.append("session", "ok")  # looks, finds its own file, watches the new folder
        quiet_appends(journal, stats)
        os.chmod(old / "left", 0o600)  # an event under the old folder's watch, had it one
        stats.clear()
        journal.append("session", "ok")
        assert str(journal.path) not in stats


APPEND_ROWS = """import sys
from kiosk.journal import Journal
with Journal.open(sys.argv[1], sys.argv[2]) as journal:
    journal.append("session", "ok")
    print("appending", file=sys.stderr, flush=True)
    for n in range(20):
        journal.append("checkout", "ok", item=f"3352{n:010d}")
"""


@pytest.mark.skipif(shutil.which("strace") is None, reason="no strace here")
def test_a_quiet_append_asks_the_kernel_once_through_one_descriptor(tmp_path):
    """Each row asks whether anything happened with one epoll_wait(0) over the file's watches
    and the mount table: a ready list the kernel keeps, where poll() asks every descriptor."""
    trace = tmp_path / "trace"
    done = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e",
                           "trace=poll,ppoll,epoll_wait,epoll_pwait,write", sys.executable, "-c",
                           APPEND_ROWS, str(tmp_path / "data" / "journal.sqlite3"),
                           str(tmp_path / "patron.key")], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    calls = trace.read_text().split("appending", 1)[1].splitlines()
    asks = [call for call in calls if "poll" in call or "epoll_wait" in call]
    assert len(asks) == 20, asks
    assert all("epoll_wait(" in call or "epoll_pwait(" in call for call in asks), asks
