"""`kiosk-central db copy`: a SQLite database filled by the real server (kiosks uploading over
HTTP, accounts, releases, the audit log: a row in every table of SCHEMA) copied whole into a
real PostgreSQL (and into SQLite), every row equal afterwards; a target with rows, or a
missing source, refused with nothing written."""

from __future__ import annotations

import pytest

from central import audit, cli, db_copy
from central.db import Database
from central.storage import Storage
from tests.central_server import BACKENDS, database_url, seed_network, sqlite_central


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    """A SQLite database as a network of libraries leaves it, with rows in every table."""
    data = tmp_path_factory.mktemp("source")
    with sqlite_central(data) as running:
        seed_network(running, days=5)
        running.storage.fold()  # the batches' counts into the totals, as the server does
        with running.storage.db.write() as conn:
            conn.execute("INSERT INTO releases (id, kind, version, size, sha256, file, "
                         "all_libraries, published_at, published_by, withdrawn_at, titles) "
                         "VALUES (7, 'catalogue', '2026-12', 1234, 'ab12', 'releases/7', 0, "
                         "'2026-12-01T08:00:00Z', 'admin', NULL, 40)")
            conn.execute("INSERT INTO release_libraries (release_id, library) "
                         "VALUES (7, '醴陵市图书馆')")
            # A batch an administrator took out of the figures (kiosk-central counts remove).
            conn.execute("INSERT INTO removed_batches (batch_id, removed_utc, removed_by) "
                         "SELECT MIN(batch_id), '2026-12-01T09:00:00Z', 'admin' FROM batches")
            # A signed-in librarian, and a guesser's refused sign-ins and block.
            conn.execute("INSERT INTO sessions (token_sha256, user_name, data, created_utc, "
                         "seen_utc) VALUES ('5e55', 'liling', '{}', '2026-12-01T08:00:00Z', "
                         "'2026-12-01T08:05:00Z')")
            conn.execute("INSERT INTO signin_failures (scope, name, at_utc) "
                         "VALUES ('address', '203.0.113.7', '2026-12-01T08:01:00Z')")
            conn.execute("INSERT INTO signin_blocks (scope, name, until_utc) "
                         "VALUES ('name', 'admin', '2026-12-01T08:16:00Z')")
            audit.record(conn, "admin", audit.AuditAction.RELEASE_PUBLISHED, "release 7",
                         address="203.0.113.9", detail={"batch": "2026-12"})
    url = running.storage.db.url
    empty = [t for t, rows in contents(url).items() if not rows]
    assert not empty, (f"no rows in {empty}: give each table of SCHEMA a row in this seed, so "
                       "the copy is proven for it")
    return url


def contents(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, in one order whatever the engine."""
    db = Database.open(url)
    try:
        with db.read() as conn:
            return {t: sorted(conn.all(f"SELECT * FROM {t}"), key=repr)
                    for t in db_copy.tables()}
    finally:
        db.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_table_is_copied_row_for_row(backend, source, tmp_path, capsys):
    target = database_url(backend, tmp_path)
    code = cli.main(["db", "copy", "--from", source, "--to", target])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "the row counts match" in err and "counts\t" in err
    assert contents(target) == contents(source)
    # The server reads the copy as its own: the kiosks, and their figures.
    copied, original = Storage.open(target), Storage.open(source)
    try:
        assert copied.kiosks() == original.kiosks()
        assert copied.user("admin") == original.user("admin")
    finally:
        copied.close()
        original.close()


def test_and_back_from_postgresql_to_sqlite(source, tmp_path, capsys):
    postgresql = database_url("postgresql", tmp_path)
    assert cli.main(["db", "copy", "--from", source, "--to", postgresql]) == 0
    back = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    code = cli.main(["db", "copy", "--from", postgresql, "--to", back])
    assert code == 0, capsys.readouterr().err
    assert contents(back) == contents(source)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_target_with_rows_is_refused_and_left_alone(backend, source, tmp_path, capsys):
    target = database_url(backend, tmp_path)
    storage = Storage.open(target)
    storage.add_kiosk("already-here", "L", "", "f" * 64)
    storage.close()
    before = contents(target)
    code = cli.main(["db", "copy", "--from", source, "--to", target])
    err = capsys.readouterr().err
    assert code == 2 and "not empty (kiosks hold rows)" in err
    assert contents(target) == before


def test_a_missing_source_is_refused_not_made(tmp_path, capsys):
    missing = tmp_path / "typo.sqlite3"
    code = cli.main(["db", "copy", "--from", f"sqlite:///{missing}",
                     "--to", f"sqlite:///{tmp_path / 'new.sqlite3'}"])
    assert code == 2 and f"no SQLite database at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_the_schemas_tables_are_all_named():
    assert db_copy.tables()[:3] == ["meta", "kiosks", "batches"]
    assert "audit_log" in db_copy.tables()
