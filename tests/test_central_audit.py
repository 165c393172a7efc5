"""The audit log's table and its two functions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from central import audit
from central.audit import AuditAction
from central.storage import Storage
from tests.central_server import BACKENDS, database_url


@pytest.mark.parametrize("backend", BACKENDS)
def test_entries_come_back_newest_first_and_filtered(backend, tmp_path):
    storage = Storage.open(database_url(backend, tmp_path))
    try:
        with storage.db.write() as conn:
            audit.record(conn, "wang", AuditAction.SIGN_IN, "wang", address="10.0.0.7")
            audit.record(conn, audit.SERVER, AuditAction.ACCOUNT_LOCKED, "li",
                         detail={"failures": 10, "minutes": 15})
        with storage.db.write() as conn:  # a later transaction, a later time
            audit.record(conn, "(command line) root", AuditAction.COUNTS_REMOVED, "b-1",
                         detail={"kiosk": "lobby-1", "n": 12})
        with storage.db.read() as conn:
            every = audit.entries(conn)
            locked = audit.entries(conn, action=AuditAction.ACCOUNT_LOCKED)
            by_wang = audit.entries(conn, actor="wang")
        assert every[0].action is AuditAction.COUNTS_REMOVED  # the two before may share a ms
        assert {e.action for e in every[1:]} == {AuditAction.ACCOUNT_LOCKED,
                                                 AuditAction.SIGN_IN}
        assert every[0].detail == {"kiosk": "lobby-1", "n": 12}
        assert [(e.subject, e.detail) for e in locked] == [("li", {"failures": 10,
                                                                    "minutes": 15})]
        assert [e.address for e in by_wang] == ["10.0.0.7"]
    finally:
        storage.close()


def test_an_action_a_newer_server_wrote_is_read_as_text(tmp_path):
    storage = Storage.open(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    try:
        with storage.db.write() as conn:
            conn.execute("INSERT INTO audit_log VALUES ('2030-01-01T00:00:00.000Z', 'x', "
                         "'teleported', '', '', '{}')")
        with storage.db.read() as conn:
            assert [e.action for e in audit.entries(conn)] == ["teleported"]
    finally:
        storage.close()
