"""/data's folders (kiosk data-layout): on a plain folder (a PC) and on a real loop-mounted ext4
partition, fresh as flashed, or holding the kiosk's files at its top as issue 13 left them."""

from __future__ import annotations

import pwd
import subprocess
from pathlib import Path

import pytest

from kiosk.bootsetup import data_layout
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from tests import small_partition

USER = "nobody"  # stands in for the kiosk user, which this machine may not have
NOBODY = (pwd.getpwnam(USER).pw_uid, pwd.getpwnam(USER).pw_gid)


def shape(path: Path) -> tuple[int, int, str]:
    st = path.stat()
    return st.st_uid, st.st_gid, oct(st.st_mode & 0o777)


def layout(top: Path) -> tuple[bool, Outcome]:
    outcome = Outcome()
    return data_layout.apply(BootPaths(data_mount=top, kiosk_user=USER), outcome), outcome


@pytest.fixture
def partition(tmp_path):
    reason = small_partition.why_not()
    if reason:
        pytest.skip(reason)
    with small_partition.small_partition(tmp_path) as top:
        yield top


def test_a_plain_folder_gets_ssh_and_rauc_but_no_kiosk_folder(tmp_path):
    """A PC: the kiosk's data stays in /var/lib/kiosk, nothing is bound."""
    top = tmp_path / "data"
    ok, _ = layout(top)
    assert ok
    assert sorted(p.name for p in top.iterdir()) == ["rauc", "ssh"]
    assert shape(top)[2] == "0o755"
    assert shape(top / "ssh")[2] == "0o700" and shape(top / "rauc")[2] == "0o755"


def test_a_fresh_partition_gets_every_folder_with_its_owner(partition):
    ok, outcome = layout(partition)
    assert ok
    assert sorted(p.name for p in partition.iterdir()) == ["kiosk", "lost+found", "rauc", "ssh"]
    assert shape(partition) == (0, 0, "0o755")
    assert shape(partition / "kiosk") == (*NOBODY, "0o700")
    assert shape(partition / "ssh") == (0, 0, "0o700")
    assert shape(partition / "rauc") == (0, 0, "0o755")
    again_ok, again = layout(partition)  # every boot: nothing more to do
    assert again_ok and again.applied == [] and outcome.applied


def test_the_layout_before_data_moves_into_the_kiosk_folder(partition):
    """Issue 13 mounted the partition at /var/lib/kiosk: the kiosk's files are at its top, the
    top is the kiosk user's. They move into kiosk/; the growth marker stays where it was."""
    (partition / "journal.sqlite3").write_bytes(b"rows")
    (partition / "catalogue").mkdir()
    (partition / "catalogue" / "2026-12.sqlite3").write_bytes(b"books")
    (partition / ".grown").write_bytes(b"grown\n")
    subprocess.run(["chown", "-R", USER, str(partition)], check=True)
    partition.chmod(0o700)
    ok, outcome = layout(partition)
    assert ok
    assert sorted(p.name for p in partition.iterdir()) == [
        ".grown", "kiosk", "lost+found", "rauc", "ssh"]
    assert (partition / "kiosk" / "journal.sqlite3").read_bytes() == b"rows"
    assert (partition / "kiosk" / "catalogue" / "2026-12.sqlite3").read_bytes() == b"books"
    assert shape(partition) == (0, 0, "0o755") and shape(partition / "kiosk")[:2] == NOBODY
    assert any("moved into" in line for line in outcome.applied)


def test_a_move_cut_short_is_finished_at_the_next_boot(partition):
    moving = partition / data_layout.MOVING
    moving.mkdir()
    (moving / "journal.sqlite3").write_bytes(b"rows")  # moved before the power cut
    (partition / "patron.key").write_bytes(b"key")    # not yet
    ok, _ = layout(partition)
    assert ok and not moving.exists()
    assert sorted(p.name for p in (partition / "kiosk").iterdir()) == [
        "journal.sqlite3", "patron.key"]


def test_a_read_only_partition_is_a_failure_not_a_crash(partition):
    small_partition.remount(partition, "ro")
    ok, _ = layout(partition)
    assert not ok
