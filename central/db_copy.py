"""`kiosk-central db copy`: every table of the schema from one database into an empty other,
in one pass (SQLite to PostgreSQL when a network outgrows one file, or back).

The source is read in one snapshot and the target written in one transaction, table by table
in the schema's order (a row's references are copied before it); the row counts are compared
inside that transaction, so a copy that does not add up leaves the target as empty as it was.
Both databases are opened as the server opens them: the target gets the schema, and a source of
an older schema is migrated first. Runs on the calling thread; stop the server while it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central.db import SCHEMA, Conn, Database
from central.errors import StorageError

_CHUNK = 2000
# `meta` holds the schema version, which the target has already; its rows are replaced whole.
_META = "meta"


class CopyRefused(StorageError):
    """The copy cannot start (a missing source, a target with rows) or did not add up."""


@dataclass(frozen=True)
class TableCopied:
    name: str
    rows: int


def tables() -> list[str]:
    """Every table of the schema, in the order SCHEMA creates them."""
    return re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA)


def copy(source_url: str, target_url: str,
         progress: Callable[[TableCopied], None] = lambda _t: None) -> list[TableCopied]:
    """Copies every table; refuses a target that holds rows. Returns each table's row count."""
    if source_url == target_url:
        raise CopyRefused("--from and --to are the same database")
    if source_url.startswith("sqlite:///"):
        path = Path(source_url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise CopyRefused(f"no SQLite database at {path}")
    source = Database.open(source_url)
    target = Database.open(target_url)
    try:
        with source.read() as reading, target.write() as writing:
            filled = [t for t in tables() if t != _META
                      and writing.one(f"SELECT 1 FROM {t} LIMIT 1") is not None]
            if filled:
                raise CopyRefused(f"the target database is not empty ({', '.join(filled)} "
                                  "hold rows): copy into a new, empty database")
            writing.execute(f"DELETE FROM {_META}")
            done = []
            for table in tables():
                copied = TableCopied(table, _copy_table(reading, writing, table))
                there = writing.value(f"SELECT COUNT(*) FROM {table}")
                if there != copied.rows:
                    raise CopyRefused(f"{table}: {copied.rows} rows read, {there} in the "
                                      "target: nothing was copied")
                progress(copied)
                done.append(copied)
            if writing.postgres:
                _advance_sequences(writing)
    finally:
        source.close()
        target.close()
    return done


def _copy_table(reading: Conn, writing: Conn, table: str) -> int:
    if reading.postgres:  # a server-side cursor: a year of counts need not fit in memory
        cursor = reading.raw.cursor(name=f"copy_{table}")
        cursor.itersize = _CHUNK
        cursor.execute(f"SELECT * FROM {table}")
    else:
        cursor = reading.execute(f"SELECT * FROM {table}")
    try:
        return _write_rows(cursor, writing, table)
    finally:
        cursor.close()


def _write_rows(cursor: Any, writing: Conn, table: str) -> int:
    columns = [d[0] for d in cursor.description]
    names = ", ".join(columns)
    rows = 0
    if writing.postgres:  # COPY: one stream, many times faster than INSERTs
        with writing.raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as out:
            while chunk := cursor.fetchmany(_CHUNK):
                for row in chunk:
                    out.write_row(row)
                rows += len(chunk)
        return rows
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    while chunk := cursor.fetchmany(_CHUNK):
        writing.executemany(insert, chunk)
        rows += len(chunk)
    return rows


def _advance_sequences(writing: Conn) -> None:
    """Identity and serial columns continue after the copied ids (none today: ids are given)."""
    found: list[Any] = writing.all(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() "
        "AND (is_identity = 'YES' OR position('nextval(' in column_default) = 1)")
    for table, column in found:
        writing.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                        f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)")
