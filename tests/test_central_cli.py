"""`kiosk-central` by its command line: kiosks and tokens, accounts, reports (opened back with
csv and openpyxl), and clear messages for bad input."""

import csv
import io
import subprocess
import sys

import openpyxl
import pytest

from central import cli
from central.auth import check_password, token_digest
from central.storage import CountRow, Storage
from tests.conftest import ROOT


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'central.sqlite3'}"


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kiosk_add_prints_a_token_once_and_stores_its_hash(capsys, db):
    code, out, err = run(capsys, "kiosk", "add", "lobby-1", "--library", "醴陵市图书馆",
                         "--service-point", "借阅台", "--db", db)
    token = out.strip()
    assert code == 0 and len(token) >= 43 and "shown only now" in err
    storage = Storage.open(db)
    assert storage.kiosk_for_token(token_digest(token)).service_point == "借阅台"
    raw = (db.removeprefix("sqlite:///"))
    assert token.encode() not in open(raw, "rb").read()
    code, _out, err = run(capsys, "kiosk", "add", "lobby-1", "--library", "x", "--db", db)
    assert code == 2 and "exists already" in err
    code, _out, err = run(capsys, "kiosk", "add", "bad name!", "--library", "x", "--db", db)
    assert code == 2 and "kiosk name" in err


def test_kiosk_list_and_revoke(capsys, db):
    run(capsys, "kiosk", "add", "lobby-1", "--library", "L", "--db", db)
    code, out, _ = run(capsys, "kiosk", "revoke", "lobby-1", "--db", db)
    assert code == 0
    code, out, _ = run(capsys, "kiosk", "list", "--db", db)
    assert out.startswith("lobby-1\tL\t-\tadded ") and "revoked" in out
    code, _out, err = run(capsys, "kiosk", "revoke", "nobody", "--db", db)
    assert code == 2 and "no kiosk named" in err


def test_user_add_reads_the_password_from_stdin(capsys, db, monkeypatch):
    code, _out, err = run(capsys, "user", "add", "ann", "--role", "staff", "--library", "L",
                          "--db", db, stdin="long enough pass\n", monkeypatch=monkeypatch)
    assert code == 0, err
    user = Storage.open(db).user("ann")
    assert user.role == "staff" and check_password("long enough pass", user.password_hash)
    assert not check_password("long enough pas", user.password_hash)
    code, _out, err = run(capsys, "user", "add", "bob", "--role", "admin", "--library", "L",
                          "--db", db, stdin="short\n", monkeypatch=monkeypatch)
    assert code == 2 and "at least 8" in err


def fill(db):
    storage = Storage.open(db)
    storage.add_kiosk("a", "醴陵市图书馆", "借阅台", "1" * 64)
    storage.add_kiosk("b", "醴陵市图书馆", "少儿阅览室", "2" * 64)
    storage.add_kiosk("c", "三合村图书室", "", "3" * 64)
    for kiosk, n in (("a", 10), ("b", 5), ("c", 2)):
        storage.ingest(kiosk, f"00000000-0000-4000-8000-00000000000{n % 10}", 1, 100, [
            CountRow("2026-03-01", 9, "checkout", "ok", None, n),
            CountRow("2026-03-01", 9, "checkout", "patron blocked", None, 1),
            CountRow("2026-03-02", 9, "checkin", "ok", None, n + 1),
            CountRow("2026-03-02", 9, "session", "timeout", None, 3),
            CountRow("2026-03-02", 9, "ebook_download", "ok", "book:000001", 1),
            CountRow("2026-07-01", 9, "checkout", "ok", None, 100)])  # after the half year


def test_report_csv_for_one_library(capsys, db, tmp_path):
    fill(db)
    out = tmp_path / "h1.csv"
    code, _o, err = run(capsys, "report", "--from", "2026-01-01", "--to", "2026-06-30",
                        "--library", "醴陵市图书馆", "--format", "csv", "-o", str(out), "--db", db)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    # Sessions, loans, returns, 借还, renewals, e-book views, QR scans, downloads; one library:
    # no subtotal.
    assert rows[3] == ["醴陵市图书馆", "借阅台", "3", "10", "11", "21", "0", "0", "0", "1"]
    assert rows[4] == ["醴陵市图书馆", "少儿阅览室", "3", "5", "6", "11", "0", "0", "0", "1"]
    assert rows[5] == ["合计", "", "6", "15", "17", "32", "0", "0", "0", "2"]


def test_report_xlsx_for_everything_in_english(capsys, db, tmp_path):
    fill(db)
    out = tmp_path / "h1.xlsx"
    code, _o, err = run(capsys, "report", "--from", "2026-01-01", "--to", "2026-06-30",
                        "--format", "xlsx", "--lang", "en", "-o", str(out), "--db", db)
    assert code == 0, err
    sheet = openpyxl.load_workbook(out).active
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=4)]
    assert rows[0][:2] == ["三合村图书室", "(no service point)"]
    assert rows[1] == ["三合村图书室", "Subtotal", 3, 2, 3, 5, 0, 0, 0, 1]
    assert rows[-2] == ["醴陵市图书馆", "Subtotal", 6, 15, 17, 32, 0, 0, 0, 2]
    assert rows[-1] == ["Total", None, 9, 17, 20, 37, 0, 0, 0, 3]
    assert sheet["B5"].font.b and not sheet["B4"].font.b
    assert sheet["D4"].number_format == "#,##0"


def test_report_refuses_bad_input(capsys, db, tmp_path):
    fill(db)
    code, _o, err = run(capsys, "report", "--from", "2026-06-30", "--to", "2026-01-01",
                        "-o", str(tmp_path / "x.csv"), "--db", db)
    assert code == 2 and "--from is after --to" in err
    code, _o, err = run(capsys, "report", "--from", "2026-01-01", "--to", "2026-06-30",
                        "--kiosk", "zz", "-o", str(tmp_path / "x.csv"), "--db", db)
    assert code == 2 and "no kiosk named zz" in err
    code, _o, err = run(capsys, "report", "--from", "2026-01-01", "--to", "2026-06-30",
                        "--library", "醴陵图书馆", "-o", str(tmp_path / "x.csv"), "--db", db)
    assert code == 2 and "no library named 醴陵图书馆" in err
    with pytest.raises(SystemExit):
        cli.main(["report", "--from", "01/01/2026", "--to", "2026-06-30", "-o", "x"])
    assert "not a date" in capsys.readouterr().err


def test_bad_config_and_database_are_one_line(capsys, tmp_path):
    bad = tmp_path / "central.toml"
    bad.write_text('[central]\nport = "eighty"\n')
    code, _o, err = run(capsys, "kiosk", "list", "--config", str(bad))
    assert code == 2 and "'port' in [central] must be int" in err
    bad.write_text('[central]\ncolour = 1\n')
    code, _o, err = run(capsys, "kiosk", "list", "--config", str(bad))
    assert code == 2 and "unknown option 'colour'" in err
    code, _o, err = run(capsys, "kiosk", "list", "--db", "mysql://x")
    assert code == 2 and "use sqlite:///path or postgresql://" in err


def test_the_entry_point_is_installed_and_serves_help():
    script = ROOT / "pyproject.toml"
    assert 'kiosk-central = "central.cli:main"' in script.read_text()
    done = subprocess.run([sys.executable, "-m", "central.cli", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "serve" in done.stdout and "report" in done.stdout
