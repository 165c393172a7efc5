"""Data files only the kiosk's user may read: 0600 files in a 0700 data folder, made so from the
start, and looser modes found on an old kiosk tightened with a warning."""

import os
import stat
from datetime import datetime, timezone

from kiosk.ils.offline_store import OfflineStore
from kiosk.journal import Journal, reserve
from kiosk.upload import state as upload_state


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_kiosk_makes_every_data_file_private(tmp_path):
    old = os.umask(0o022)  # a common default: new files 0644, folders 0755
    try:
        data = tmp_path / "data"
        with Journal.open(data / "journal.sqlite3", data / "patron.key") as journal:
            journal.append("checkout", "ok", patron="23520001234566")
            files = ["journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm",
                     "patron.key"]
            with OfflineStore(data / "offline.sqlite3") as store:
                store.add("checkout", "23520001234566", "33520000123453",
                          datetime.now(timezone.utc))
                files += ["offline.sqlite3", "offline.sqlite3-wal", "offline.sqlite3-shm"]
                assert reserve.ensure(data, 64 * 1024)
                upload_state.save(upload_state.state_path(data / "journal.sqlite3"),
                                  upload_state.UploadState())
                with upload_state.exclusive(data):
                    files += ["journal.reserve", "upload-state.json", "upload.lock"]
                    assert {name: oct(mode(data / name)) for name in files} == {
                        name: oct(0o600) for name in files}
        assert mode(data) == 0o700
    finally:
        os.umask(old)


def test_an_old_kiosks_open_files_are_tightened_with_a_warning(tmp_path, caplog):
    data = tmp_path / "data"
    Journal.open(data / "journal.sqlite3", data / "patron.key").close()
    data.chmod(0o755)
    for name in ("journal.sqlite3", "patron.key"):
        (data / name).chmod(0o644)
    (data / "central.token").write_text("token\n")
    (data / "central.token").chmod(0o644)
    (data / "pin-lockout.json").write_text("{}")  # how many wrong staff PINs, and since when
    (data / "pin-lockout.json").chmod(0o644)
    with Journal.open(data / "journal.sqlite3", data / "patron.key") as journal:
        journal.append("session", "ok")
        for name in ("journal.sqlite3", "patron.key", "central.token", "journal.sqlite3-wal",
                     "pin-lockout.json"):
            assert mode(data / name) == 0o600, name
    assert mode(data) == 0o700
    assert "journal.sqlite3: was readable by others (mode 644); now 600" in caplog.text
    assert "central.token: was readable by others" in caplog.text


def test_a_reader_changes_no_modes(tmp_path):
    data = tmp_path / "data"
    Journal.open(data / "journal.sqlite3", data / "patron.key").close()
    (data / "journal.sqlite3").chmod(0o640)  # a technician's copy, say
    with Journal.open_existing(data / "journal.sqlite3") as reader:
        reader.stats()
    assert mode(data / "journal.sqlite3") == 0o640
