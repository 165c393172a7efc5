"""`kiosk journal stats|verify|export` as staff run it, on a real journal file."""

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import date, timedelta

import pytest

from kiosk.journal import Journal
from tests.conftest import ROOT

FORMULA_TITLE = "=HYPERLINK(\"http://evil\")"


@pytest.fixture
def journal_file(tmp_path):
    path = tmp_path / "journal.sqlite3"
    with Journal.open(path, tmp_path / "patron.key") as journal:
        journal.append("session", "ok", detail={"seconds": 30})
        journal.append("checkout", "ok", item="33520000123453", title="红楼梦",
                       patron="23520001234566")
        journal.append("checkout", "ok", item="33520000456788", title=FORMULA_TITLE)
        journal.append("session", "timeout")
        journal.mark_sent(1)
    return path


def kiosk(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "kiosk", "journal", *map(str, args)],
                            cwd=ROOT, capture_output=True)
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


def test_csv_export_opens_in_spreadsheets_with_chinese_intact(journal_file, tmp_path):
    out = tmp_path / "journal.csv"
    kiosk("export", "--file", journal_file, "--output", out)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert data.count(b"\r\n") == 5 and b"\n" not in data.replace(b"\r\n", b"")
    assert "红楼梦".encode("utf-8") in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r["kind"] for r in rows] == ["session", "checkout", "checkout", "session"]
    assert rows[0]["detail"] == '{"seconds": 30}'
    assert rows[1]["time_local"][:4].isdigit() and rows[1]["clock_synced"] in ("yes", "no", "")
    assert rows[2]["title"] == "'" + FORMULA_TITLE  # a spreadsheet shows it, never runs it
    assert "patron_hash" not in rows[0]
    assert not list(tmp_path.glob(".*partial"))


def test_jsonl_export_with_patron_hashes_when_asked(journal_file):
    result = kiosk("export", "--file", journal_file, "--format", "jsonl", "--patron-hash")
    records = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert records[1]["title"] == "红楼梦" and records[2]["title"] == FORMULA_TITLE
    assert len(records[1]["patron_hash"]) == 64 and records[0]["patron_hash"] is None
    assert "exported 4 rows" in result.stderr.decode()


def test_export_by_local_dates(journal_file):
    today = date.today()
    def count(*args):
        out = kiosk("export", "--file", journal_file, "--format", "jsonl", *args).stdout
        return len(out.splitlines())
    assert count("--since", today, "--until", today) == 4
    assert count("--since", today + timedelta(days=1)) == 0
    assert count("--until", today - timedelta(days=1)) == 0
    bad = kiosk("export", "--file", journal_file, "--since", "24/11/2026", check=False)
    assert bad.returncode == 2 and b"not a date like 2026-11-24" in bad.stderr


def test_stats_for_people_and_for_scripts(journal_file):
    text = kiosk("stats", "--file", journal_file).stdout.decode()
    assert "rows         4 (seq 1 to 4)" in text
    assert "not uploaded 3" in text
    assert "checkout     ok           2" in text
    record = json.loads(kiosk("stats", "--file", journal_file, "--json").stdout)
    assert record["rows"] == 4 and record["unsent"] == 3
    assert {"kind": "session", "outcome": "timeout", "rows": 1} in record["counts"]


def test_verify_fails_loudly_on_a_tampered_journal(journal_file):
    assert b"sound (4 rows)" in kiosk("verify", "--file", journal_file).stdout
    with sqlite3.connect(journal_file) as db:
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("UPDATE entries SET outcome = 'ok' WHERE seq = 4")
    result = kiosk("verify", "--file", journal_file, check=False)
    assert result.returncode == 1
    assert b"row 4 does not match its chain value" in result.stdout


def test_the_journal_is_found_through_the_config(journal_file, tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
    assert b"sound (4 rows)" in kiosk("verify", "--config", config).stdout


def test_a_missing_journal_is_a_clear_message(tmp_path):
    result = kiosk("stats", "--file", tmp_path / "none.sqlite3", check=False)
    assert result.returncode == 2
    assert b"no journal here" in result.stderr and b"Traceback" not in result.stderr
