"""The central server's small parts: config and its example, passwords, fleet health, charts,
translations, and serving as a real `kiosk-central serve` process."""

import ast
import dataclasses
import datetime as dt
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from central import charts, config, fleet
from central.auth import check_password, hash_password
from central.i18n import LOCALE_DIR, Translator
from central.storage import FleetEntry, Kiosk
from tests.conftest import ROOT

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc)


def test_the_example_config_is_the_defaults():
    example = config.load(ROOT / "central" / "central.toml.example")
    assert example == config.CentralConfig()
    for f in dataclasses.fields(config.CentralConfig):
        assert re.search(rf"^{f.name} = ", (ROOT / "central" / "central.toml.example")
                         .read_text(), re.M), f.name


def test_config_ranges_and_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[central]\nsilent_after_min = 0\n")
    with pytest.raises(config.CentralConfigError, match="between 1 and 10080"):
        config.load(path)
    path.write_text('[central]\ndata_dir = "/srv/c"\n')
    loaded = config.load(path, db="sqlite:///x.sqlite3", port=None)
    assert loaded.db_url == "sqlite:///x.sqlite3" and loaded.port == 8000
    assert config.load(path).db_url == "sqlite:////srv/c/central.sqlite3"


def test_config_is_read_as_the_kiosk_reads_its_own(tmp_path):
    """common/toml_options.py reads both files: a byte-order mark (Notepad) is skipped, another
    encoding is named, and the server keeps its own wording."""
    path = tmp_path / "c.toml"
    path.write_bytes(b'\xef\xbb\xbf[central]\nport = 9000\n')
    assert config.load(path).port == 9000
    path.write_bytes(b'[central]\nhost = "\xc4\xe3"\n')
    with pytest.raises(config.CentralConfigError, match="not UTF-8 text"):
        config.load(path)
    path.write_text("[central]\nport = true\n")
    with pytest.raises(config.CentralConfigError,
                       match=r"c.toml: option 'port' in \[central\] must be int, not True$"):
        config.load(path)
    with pytest.raises(config.CentralConfigError, match="cannot read the config: "):
        config.load(tmp_path / "missing.toml")


def test_passwords_are_salted_scrypt():
    one, two = hash_password("geheim123"), hash_password("geheim123")
    assert one != two and one.startswith("scrypt$16384$8$1$")
    assert check_password("geheim123", one) and not check_password("geheim124", one)
    assert not check_password("geheim123", "pbkdf2$1$2") and not check_password("x", "")


def entry(minutes_ago, **beat):
    kiosk = Kiosk("k1", "L", "P", "2026-01-01T00:00:00.000Z", None)
    when = (NOW - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    body = {"devices": {}, "ils": "ok", "clock_synced": True, "last_error": None, **beat}
    return FleetEntry(kiosk, when, body, None, None)


def test_fleet_health():
    assert fleet.assess(entry(5), NOW, 60).health == fleet.OK
    silent = fleet.assess(entry(61), NOW, 60)
    assert silent.health == fleet.SILENT and silent.minutes_since == 61
    assert silent.problems[0].say(english) == "Silent for 1 h 1 min"
    never = fleet.assess(FleetEntry(entry(0).kiosk, None, None, None, None), NOW, 60)
    assert never.health == fleet.SILENT and never.minutes_since is None
    broken = fleet.assess(entry(1, ils="fault", last_error="HTTP 401",
                                devices={"rfid": {"state": "fault", "detail": "unplugged"}}),
                          NOW, 60)
    assert broken.health == fleet.FAULT
    assert [p.msgid for p in broken.problems] == ["Device {name}: {detail}",
                                                   "The library system cannot be reached",
                                                   "Last upload error: {error}"]
    rows = fleet.order([fleet.assess(entry(1), NOW, 60), broken, silent])
    assert [r.health for r in rows] == ["silent", "fault", "ok"]


def english(msgid, **args):
    return msgid.format(**args)


def test_fleet_ages_and_spans_read_as_words():
    zh = Translator().bound("zh_CN")
    assert [fleet.ago(s).say(zh) for s in (None, 0, 59, 60, 3599, 3600, 3660, 86399, 90000,
                                           7 * 86400 + 1)] == [
        "从未", "刚刚", "刚刚", "1 分钟前", "59 分钟前", "1 小时前", "1 小时 1 分钟前",
        "23 小时 59 分钟前", "1 天 1 小时前", "7 天前"]
    assert fleet.ago(20_000 * 86400).say(english) == "20,000 days ago"  # a clock from 1970
    assert fleet.ago(90).say(english) == "1 min ago" and fleet.ago(5).say(english) == "just now"


def test_fleet_times_are_in_the_librarys_zone():
    shanghai, berlin = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
    assert fleet.local_time("2026-11-24T18:30:00.000Z", shanghai) == "2026-11-25 02:30"
    assert fleet.local_time("2026-11-24T18:30:00.000Z", berlin) == "2026-11-24 19:30"
    assert fleet.local_time(None, shanghai) is None
    assert fleet.zone_label(shanghai, NOW) == "Asia/Shanghai (UTC+08:00)"
    assert fleet.zone_label(berlin, NOW) == "Europe/Berlin (UTC+01:00)"
    assert fleet.zone_label(ZoneInfo("America/St_Johns"), NOW) == \
        "America/St_Johns (UTC-03:30)"
    row = fleet.assess(entry(0), NOW, 60, zone=shanghai)
    assert row.heartbeat_local == "2026-11-24 20:00" and row.age.say(english) == "just now"


def test_an_unsynchronised_clock_is_a_warning_not_a_fault():
    unsynced = fleet.assess(entry(1, clock_synced=False), NOW, 60)
    assert unsynced.health == fleet.WARNING
    assert [(p.msgid, p.level) for p in unsynced.problems] == [
        ("The kiosk's clock is not synchronised", fleet.WARNING)]
    # One that cannot tell, and wrote a time 3 hours behind the arrival: warned, with how much.
    behind = fleet.assess(entry(1, clock_synced=None, time_utc="2026-11-24T08:59:00Z"),
                          NOW, 60)
    assert behind.health == fleet.WARNING
    assert [p.say(english) for p in behind.problems] == [
        "The kiosk's clock is 3 h behind the server's"]
    zh = Translator().bound("zh_CN")
    in_1970 = fleet.assess(entry(1, clock_synced=False, time_utc="1970-01-01T00:00:10Z"),
                           NOW, 60)
    assert [p.say(zh) for p in in_1970.problems] == ["自助机时钟未同步",
                                                     "自助机时钟比服务器慢 20,781 天"]
    # A few seconds on the way, or a kiosk that says it is synchronised: nothing to say.
    for beat in ({"clock_synced": None, "time_utc": "2026-11-24T11:58:30Z"},
                 {"clock_synced": True, "time_utc": "2026-11-20T11:59:00Z"}, {}):
        assert fleet.assess(entry(1, **beat), NOW, 60).health == fleet.OK, beat
    # A fault still wins, and the warning stays listed beside it.
    both = fleet.assess(entry(1, clock_synced=False, ils="fault"), NOW, 60)
    assert both.health == fleet.FAULT
    assert [p.level for p in both.problems] == [fleet.FAULT, fleet.WARNING]
    rows = fleet.order([fleet.assess(entry(1), NOW, 60), unsynced, both,
                        fleet.assess(entry(61), NOW, 60)])
    assert [r.health for r in rows] == ["silent", "fault", "warning", "ok"]


def test_the_time_zone_is_checked_at_start(tmp_path):
    assert config.CentralConfig().zone == ZoneInfo("Asia/Shanghai")
    path = tmp_path / "c.toml"
    path.write_text('[central]\ntime_zone = "Asia/Urumqi"\n')
    assert config.load(path).zone == ZoneInfo("Asia/Urumqi")
    for wrong in ("Asia/Shangai", "CST", "+08:00", "", "../../etc/passwd", "Asia"):
        path.write_text(f'[central]\ntime_zone = "{wrong}"\n')
        with pytest.raises(config.CentralConfigError,
                           match=r"c.toml: option 'time_zone' in \[central\] is not a time zone "
                                 r"this machine knows .*IANA name such as Asia/Shanghai"):
            config.load(path)
    path.write_text("[central]\ntime_zone = 8\n")
    with pytest.raises(config.CentralConfigError, match="must be str, not 8"):
        config.load(path)


def test_charts_scale_and_escape():
    assert [4 * charts.axis_step(v) for v in (0, 3, 7, 99, 4800)] == [4, 4, 8, 100, 6000]
    svg = charts.grouped_bars(["a<b", "c"], [charts.Series("借书", "s-loans")], [[5, 0]],
                              title="t&t", empty_text="none")
    assert "a&lt;b" in svg and "t&amp;t" in svg and "<title>a&lt;b · 借书: 5</title>" in svg
    heights = [float(h) for h in re.findall(r'class="s-loans" x="[\d.]+" y="[\d.]+" '
                                            r'width="[\d.]+" height="([\d.]+)"', svg)]
    assert heights[0] > 0 and heights[1] == 0
    assert "none" not in svg
    empty = charts.horizontal_bars([], [charts.Series("x", "s-qr")], [[]], title="t",
                                   empty_text="nothing yet")
    assert "nothing yet" in empty
    assert charts.shorten("中" * 20, 26) == "中" * 12 + "…"
    assert charts.shorten("红楼梦", 26) == "红楼梦"


def test_long_periods_are_charted_by_week_or_month():
    assert [charts.grouping(n) for n in (1, 31, 45, 46, 181, 200, 201, 366, 3660)] == [
        "day", "day", "day", "week", "week", "week", "month", "month", "month"]
    # Weeks start on Monday: 2026-11-25 is a Wednesday, 2026-11-23 its Monday.
    assert charts.period_start(dt.date(2026, 11, 25), "week") == dt.date(2026, 11, 23)
    assert charts.period_start(dt.date(2026, 11, 29), "week") == dt.date(2026, 11, 23)
    assert charts.period_start(dt.date(2026, 11, 30), "week") == dt.date(2026, 11, 30)
    assert charts.period_start(dt.date(2026, 11, 30), "month") == dt.date(2026, 11, 1)
    zh, en = Translator().bound("zh_CN"), Translator().bound("en")
    # The seed library's half-year: 2026-06-01 (a Monday) to 2026-11-29 (a Sunday), 182 days.
    loans = [i % 7 for i in range(182)]
    half = charts.by_period(dt.date(2026, 6, 1), [loans, [1] * 182])
    assert half.unit == "week" and len(half.starts) == 26 and all(
        d.weekday() == 0 for d in half.starts)
    assert sum(half.values[0]) == sum(loans) and half.values[1] == [7] * 26
    assert half.labels(zh)[:2] == ["06-01周", "06-08周"] and half.labels(en)[0] == "wk 06-01"
    assert half.rows()[0] == ("2026-06-01 – 06-07", [21, 7])
    assert (zh(half.title), zh(half.head)) == ("每周借还书", "周")
    # Cut to the days asked for: from a Wednesday, the first week holds five days.
    cut = charts.by_period(dt.date(2026, 6, 3), [[1] * 60])
    assert cut.starts[0] == dt.date(2026, 6, 1) and cut.spans[0] == (dt.date(2026, 6, 3),
                                                                     dt.date(2026, 6, 7))
    assert cut.values[0][:2] == [5, 7] and sum(cut.values[0]) == 60
    year = charts.by_period(dt.date(2025, 12, 15), [[1] * 400])
    assert year.unit == "month" and len(year.starts) == 14
    assert year.labels(zh)[:2] == ["2025年12月", "2026年1月"] and year.labels(en)[1] == "2026-01"
    assert [r[0] for r in year.rows()[:2]] == ["2025-12-15 – 12-31", "2026-01"]
    assert year.values[0][:3] == [17, 31, 28] and zh(year.title) == "每月借还书"
    fortnight = charts.by_period(dt.date(2026, 11, 11), [[3] * 14])
    assert fortnight.unit == "day" and fortnight.labels(zh)[-1] == "11-24"
    assert fortnight.rows()[-1] == ("2026-11-24", [3])
    assert charts.by_period(dt.date(2026, 1, 1), [[]]).starts == []
    assert charts.by_period(dt.date(2026, 1, 1), [[1] * 10], unit="month").values == [[10]]


def used_message_ids():
    ids = set()
    patterns = (re.compile(r"""\bt\(\s*(['"])(.+?)\1"""),
                re.compile(r"""\bN_\(\s*(['"])(.+?)\1\s*\)"""),
                re.compile(r"""\btr\(\s*\w+\s*,\s*(['"])(.+?)\1"""))
    central = ROOT / "central"
    for path in [*central.rglob("*.py"), *central.rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            ids.update(m.group(2) for m in pattern.finditer(text))
        if path.suffix == ".py":  # also ids split over lines ("..." "...") in Python
            for node in ast.walk(ast.parse(text)):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in ("N_", "t") and node.args
                        and isinstance(node.args[0], ast.Constant)):
                    ids.add(node.args[0].value)
    return ids


def catalogue(language):
    text = (LOCALE_DIR / language / "LC_MESSAGES" / "central.po").read_text(encoding="utf-8")
    return {k.replace('\\"', '"'): v for k, v in
            re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, re.M) if k}


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_page_message_is_translated(language):
    ids = used_message_ids()
    assert {"Fleet", "Loans and returns per day", "Wrong name or password."} <= ids
    entries = catalogue(language)
    assert sorted(i for i in ids if not entries.get(i)) == []
    if language == "zh_CN":
        assert [k for k, v in entries.items() if not re.search(r"[\u4e00-\u9fff]", v)] == []
        assert (fleet.Problem("Silent for {span}", {"span": fleet.span(61 * 60)})
                .say(Translator().bound("zh_CN")) == "已失联 1 小时 1 分钟")


@pytest.mark.parametrize("po", sorted(LOCALE_DIR.glob("*/LC_MESSAGES/central.po")), ids=str)
def test_catalogues_pass_msgfmt_check(po, tmp_path):
    subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "out.mo"), str(po)], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kiosk_central_serve_runs_as_one_process(tmp_path):
    port = free_port()
    conf = tmp_path / "central.toml"
    conf.write_text(f'[central]\ndata_dir = "{tmp_path}"\nport = {port}\n')
    server = subprocess.Popen([sys.executable, "-m", "central.cli", "serve", "--config",
                               str(conf)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in server.stderr:  # uvicorn says when it listens
            if "Uvicorn running on" in line:
                break
        health = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10)
        assert health.json()["ok"] is True
        db = Path(tmp_path / "central.sqlite3")
        assert db.exists() and Path(f"{db}-wal").exists()  # SQLite in WAL mode
    finally:
        server.terminate()
        rest = server.communicate(timeout=30)[1]
    # uvicorn shuts down cleanly on SIGTERM, then re-raises it, as systemd expects.
    assert "Finished server process" in rest and server.returncode in (0, -15)
