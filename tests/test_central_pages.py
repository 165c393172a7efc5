"""The staff pages over HTTP against the real server: sign-in with CSRF-checked forms, what
each role sees, the fleet's silent kiosks, the figures, the language switch, and the report
downloads opened back with csv and openpyxl."""

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
import requests

from central.figures import Selection, gather
from central.fleet import parse_utc
from central.storage import Storage
from tests.central_server import (
    BACKENDS,
    PASSWORD,
    add_kiosk,
    add_user,
    database_url,
    seed_network,
    serve,
)

LAST = dt.date(2026, 11, 24)
FIRST = LAST - dt.timedelta(days=13)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@pytest.fixture(scope="module", params=BACKENDS)
def network(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    storage = Storage.open(database_url(request.param, tmp))
    try:
        with serve(storage, tmp) as running:
            seed_network(running)
            yield running
    finally:
        storage.close()


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(server, name, password=PASSWORD, next_path="/fleet"):
    session = requests.Session()
    page = session.get(f"{server.url}/login", params={"next": next_path}, timeout=10)
    answer = session.post(f"{server.url}/login", timeout=30, allow_redirects=False, data={
        "name": name, "password": password, "csrf": csrf_of(page.text), "next": next_path})
    return session, answer


def signed_in(server, name):
    session, answer = sign_in(server, name)
    assert answer.status_code == 303, answer.text
    return session


def test_pages_need_a_sign_in(network):
    for path in ("/fleet", "/figures?from=2026-11-01", "/figures/report.csv"):
        answer = requests.get(network.url + path, allow_redirects=False, timeout=10)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_sign_in_checks_password_and_form_token(network):
    _session, wrong = sign_in(network, "admin", "not the password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    _session, nobody = sign_in(network, "nobody")
    assert nobody.status_code == 401
    forged = requests.post(f"{network.url}/login", allow_redirects=False, timeout=10,
                           data={"name": "admin", "password": PASSWORD, "csrf": "guess"})
    assert forged.status_code == 400 and "表单已过期" in forged.text
    session, ok = sign_in(network, "admin", next_path="/figures?from=2026-11-20")
    assert ok.status_code == 303 and ok.headers["location"] == "/figures?from=2026-11-20"
    cookie = next(c for c in session.cookies if c.name == "kiosk_central")
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()


def test_sign_in_never_redirects_off_site(network):
    _session, answer = sign_in(network, "admin", next_path="//evil.example/x")
    assert answer.headers["location"] == "/fleet"
    switch = requests.get(f"{network.url}/lang/en", params={"next": "https://evil.example"},
                          allow_redirects=False, timeout=10)
    assert switch.headers["location"] == "/fleet"


def test_sign_out_needs_the_form_token(network):
    session = signed_in(network, "admin")
    session.post(f"{network.url}/logout", data={"csrf": "guess"}, timeout=10)
    assert session.get(f"{network.url}/fleet", timeout=10).url.endswith("/fleet")
    page = session.get(f"{network.url}/fleet", timeout=10)
    session.post(f"{network.url}/logout", data={"csrf": csrf_of(page.text)}, timeout=10)
    assert "/login" in session.get(f"{network.url}/fleet", timeout=10).url


def fleet_rows(html):
    return dict(re.findall(r'<tr class="(\w+)" data-kiosk="([^"]+)"', html)[::1])


def test_the_admin_sees_the_whole_fleet_in_chinese(network):
    page = signed_in(network, "admin").get(f"{network.url}/fleet", timeout=10).text
    assert 'lang="zh-Hans"' in page and "设备总览" in page
    health = {kiosk: state for state, kiosk in
              re.findall(r'<tr class="(\w+)" data-kiosk="([^"]+)"', page)}
    assert health == {"liling-lobby-1": "ok", "liling-ebook": "ok",
                      "liling-children": "fault", "village-sanhe": "silent"}
    assert "尚未收到心跳" in page and "设备 rfid：not plugged in" in page


def test_staff_see_only_their_library(network):
    session = signed_in(network, "sanhe")
    page = session.get(f"{network.url}/fleet", timeout=10).text
    assert re.findall(r'data-kiosk="([^"]+)"', page) == ["village-sanhe"]
    asked = session.get(f"{network.url}/figures", timeout=10, params={
        **PERIOD, "kiosk": ["liling-lobby-1"]}).text
    assert "liling-lobby-1" not in asked.split("<main>")[1]
    assert re.search(r'id="total-loans">0<', asked)
    mine = session.get(f"{network.url}/figures", params=PERIOD, timeout=10).text
    storage = network.storage
    loans = gather(storage, Selection(FIRST, LAST, ("village-sanhe",)),
                   storage.kiosks()).total.loans
    assert re.search(rf'id="total-loans">{loans:,}<', mine)


def test_a_kiosk_silent_for_over_an_hour_is_shown_so(network):
    session = signed_in(network, "liling")
    saved = network.clock[0]
    latest = max(parse_utc(e.heartbeat_utc) for e in network.storage.fleet(
        ["liling-lobby-1", "liling-children", "liling-ebook"]))
    try:
        network.clock[0] = latest + dt.timedelta(minutes=61)
        page = session.get(f"{network.url}/fleet", timeout=10).text
        assert set(re.findall(r'<tr class="(\w+)" data-kiosk=', page)) == {"silent"}
        assert "已失联 1 小时 1 分钟" in page
        assert "失联超过 1 小时</div>" in page  # the tile, silent_after_min = 60
        network.clock[0] = latest + dt.timedelta(minutes=59)
        page = session.get(f"{network.url}/fleet", timeout=10).text
        assert 'class="ok" data-kiosk="liling-lobby-1"' in page
    finally:
        network.clock[0] = saved


def row_of(page, kiosk):
    return re.search(rf'<tr class="\w+" data-kiosk="{kiosk}">.*?</tr>', page, re.S).group()


def test_fleet_times_are_the_librarys_and_an_unsynchronised_clock_is_a_warning(network):
    session = signed_in(network, "liling")
    page = session.get(f"{network.url}/fleet", timeout=10).text
    assert "时间均按图书馆所在时区显示：Asia/Shanghai (UTC+08:00)。" in page
    entries = {e.kiosk.id: e for e in network.storage.fleet(["liling-lobby-1", "liling-ebook"])}
    lobby = entries["liling-lobby-1"]
    shanghai = parse_utc(lobby.heartbeat_utc).astimezone(dt.timezone(dt.timedelta(hours=8)))
    row = row_of(page, "liling-lobby-1")
    assert "刚刚" in row and f">{shanghai:%Y-%m-%d %H:%M}</time>" in row and "UTC" not in row
    ebook = entries["liling-ebook"]
    try:
        network.storage.store_heartbeat("liling-ebook", {**ebook.heartbeat,
                                                         "clock_synced": False})
        page = session.get(f"{network.url}/fleet", timeout=10).text
        row = row_of(page, "liling-ebook")
        assert row.startswith('<tr class="warning"') and '<span class="badge warning">警告' in row
        assert re.search(r'<div class="problem warning">.*自助机时钟未同步</div>', row)
        assert 'id="warning-tile"><div class="muted">有警告</div>' in page
        # warnings come after faults: liling-children's unplugged reader needs a technician
        assert re.findall(r'data-kiosk="([^"]+)"', page) == [
            "liling-children", "liling-ebook", "liling-lobby-1"]
    finally:
        network.storage.store_heartbeat("liling-ebook", ebook.heartbeat)


def test_the_language_switch_keeps_the_page(network):
    session = signed_in(network, "admin")
    answer = session.get(f"{network.url}/lang/en", params={"next": "/figures?from=2026-11-20"},
                         timeout=10)
    assert answer.url.endswith("/figures?from=2026-11-20")
    assert 'lang="en"' in answer.text and "Loans and returns per day" in answer.text
    assert "每日借还书" not in answer.text
    session.get(f"{network.url}/lang/zh_CN", timeout=10)
    assert "每日借还书" in session.get(f"{network.url}/figures", timeout=10).text


def period_card(page):
    card = page.split('id="per-period"')[1].split('<div class="card"')[0]
    bars = re.findall(r'<rect class="s-loans" x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+">'
                      r'<title>([^<]*)</title>', card)
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([\d,]+)</td>", card)
    return card, bars, rows


def test_a_half_year_is_charted_by_week(network):
    session = signed_in(network, "admin")
    half = {"from": "2026-05-28", "to": LAST.isoformat()}  # 181 days, the seed's last 14 in it
    page = session.get(f"{network.url}/figures", params=half, timeout=10).text
    card, bars, rows = period_card(page)
    assert "<h2>每周借还书</h2>" in card and "<th>周</th>" in card
    assert len(bars) == len(rows) == 27  # a bar a week (Monday to Sunday), not 181
    assert bars[0].startswith("05-25周 · 借书") and bars[-1].startswith("11-23周 · 借书")
    assert rows[0][0] == "2026-05-28 – 05-31" and rows[-1][0] == "2026-11-23 – 11-24"
    loans = re.search(r'id="total-loans">([\d,]+)<', page).group(1)
    assert sum(int(n.replace(",", "")) for _, n in rows) == int(loans.replace(",", ""))
    year = session.get(f"{network.url}/figures", timeout=10,
                       params={"from": "2025-11-01", "to": LAST.isoformat()}).text
    card, bars, rows = period_card(year)
    assert "<h2>每月借还书</h2>" in card and len(bars) == len(rows) == 13
    assert bars[-1].startswith("2026年11月 · 借书") and rows[0][0] == "2025-11"
    short = session.get(f"{network.url}/figures", params=PERIOD, timeout=10).text
    card, bars, rows = period_card(short)
    assert "<h2>每日借还书</h2>" in card and len(bars) == 14 and rows[-1][0] == "2026-11-24"


def test_failures_are_named_in_the_staffs_words(network):
    session = signed_in(network, "admin")
    page = session.get(f"{network.url}/figures", params=PERIOD, timeout=10).text
    assert "借书 · 读者证受限" in page  # the chart's bar label
    assert "<td>还书</td><td>标签无法读取</td>" in page  # the table beside it
    assert "unreadable_tag" not in page
    session.get(f"{network.url}/lang/en", timeout=10)
    page = session.get(f"{network.url}/figures", params=PERIOD, timeout=10).text
    assert "Borrow · card blocked" in page


def test_figures_for_a_chosen_set_of_kiosks(network):
    session = signed_in(network, "admin")
    chosen = ("liling-children", "liling-ebook")
    page = session.get(f"{network.url}/figures", timeout=10,
                       params={**PERIOD, "kiosk": list(chosen)}).text
    storage = network.storage
    figures = gather(storage, Selection(FIRST, LAST, chosen), storage.kiosks())
    assert figures.total.loans > 0
    assert re.search(rf'id="total-loans">{figures.total.loans:,}<', page)
    # Charts without a script; the one script (the kiosk picker's filter) is a file, as the
    # CSP wants, and the page works without it.
    assert page.count("<svg") == 5
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/picker.js" defer>']
    assert ("少儿阅览室" in page
            and "借阅台" not in page.split('id="report"')[1].split("</table>")[0])
    assert "=SUM(A1:A9)" in page  # escaped as text, shown as it is
    assert re.search(r"<title>红楼梦[^<]* · 浏览: \d+</title>", page)  # a bar's hover text


def test_figures_with_bad_dates_say_so(network):
    session = signed_in(network, "admin")
    page = session.get(f"{network.url}/figures", params={"from": "2026-13-01",
                                                        "to": "2026-11-24"}, timeout=10).text
    assert "有日期无法识别" in page
    page = session.get(f"{network.url}/figures", params={"from": "2026-11-24",
                                                        "to": "2026-11-01"}, timeout=10).text
    assert "已自动对调" in page and 'value="2026-11-01"' in page


def expected_points(network, kiosks=None):
    storage = network.storage
    ids = kiosks or tuple(k.id for k in storage.kiosks())
    return gather(storage, Selection(FIRST, LAST, ids), storage.kiosks())


def test_csv_report_opens_in_a_spreadsheet(network):
    session = signed_in(network, "admin")
    answer = session.get(f"{network.url}/figures/report.csv", params=PERIOD, timeout=30)
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    raw = answer.content
    assert (raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
            and b"\n" not in raw.replace(b"\r\n", b""))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["自助服务统计表"]
    assert rows[2] == ["图书馆", "服务点", "自助机使用次数", "借书", "还书", "借还合计", "续借",
                       "电子书浏览", "扫码", "电子书下载"]
    body, total = rows[3:-1], rows[-1]
    figures = expected_points(network)
    assert [r[:2] for r in body] == [["三合村图书室", "（未指定服务点）"], ["三合村图书室", "小计"],
                                    ["醴陵市图书馆", "借阅台"], ["醴陵市图书馆", "少儿阅览室"],
                                    ["醴陵市图书馆", "电子阅览室"], ["醴陵市图书馆", "小计"]]
    points = [r for r in body if r[1] != "小计"]
    assert total[0] == "合计"
    for column in range(2, 10):
        assert int(total[column]) == sum(int(r[column]) for r in points)
        assert int(total[column]) == sum(int(r[column]) for r in body if r[1] == "小计")
    t = figures.total
    assert [int(v) for v in total[2:]] == [t.sessions, t.loans, t.returns, t.loans_returns,
                                           t.renewals, t.ebook_views, t.qr_scans, t.downloads]
    assert t.renewals > 0 and t.qr_scans > 0


def test_xlsx_report_is_the_half_year_table(network):
    session = signed_in(network, "liling")
    session.get(f"{network.url}/lang/en", timeout=10)
    answer = session.get(f"{network.url}/figures/report.xlsx", params=PERIOD, timeout=30)
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Self-service kiosk statistics"
    assert values[2] == ["Library", "Service point", "Kiosk sessions", "Loans", "Returns",
                         "Loans and returns", "Renewals", "E-book views", "QR scans",
                         "E-book downloads"]
    body, total = values[3:-1], values[-1]
    assert [r[1] for r in body] == ["借阅台", "少儿阅览室", "电子阅览室"]  # staff: one library
    assert total[0] == "Total" and sheet.cell(sheet.max_row, 1).font.b
    for column in range(2, 10):
        assert total[column] == sum(r[column] for r in body)
    mine = expected_points(network, ("liling-lobby-1", "liling-children", "liling-ebook"))
    assert total[3] == mine.total.loans


def test_formula_like_names_are_quoted_in_reports(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    add_kiosk(storage, "odd", "=cmd|' /C calc'!A0", "+point")
    add_user(storage, "admin", "admin", "x", PASSWORD)
    with serve(storage, tmp_path) as running:
        session = signed_in(running, "admin")
        raw = session.get(f"{running.url}/figures/report.csv", timeout=10).content
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        assert rows[3][:2] == ["'=cmd|' /C calc'!A0", "'+point"]
        book = openpyxl.load_workbook(io.BytesIO(session.get(
            f"{running.url}/figures/report.xlsx", timeout=10).content))
        cell = book.active.cell(4, 1)
        assert cell.data_type == "s" and cell.value.startswith("'=")
    storage.close()
