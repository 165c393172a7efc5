"""The titles report (issue 17): licences ending within 30 days and a month's most viewed and
downloaded e-books. Licence windows as a real kiosk's uploader sends them to the real server;
the page and its CSV and .xlsx downloads over HTTP within each account's library (the workbook
opened back with openpyxl); `kiosk-central report titles` on the same database. On SQLite and
PostgreSQL."""

import csv
import datetime as dt
import io
import re
import uuid

import openpyxl
import pytest
import requests

from central import cli
from central.storage import Storage
from central.title_report import Month
from tests.central_server import (
    BACKENDS,
    PASSWORD,
    add_kiosk,
    add_user,
    database_url,
    serve,
    sqlite_central,
)
from tests.test_central_pages import signed_in

TODAY = dt.date.today()  # the server's clock and the command line's today


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026-11", "2026-11-01", "2026-11-30"), ("2028-2", "2028-02-01", "2028-02-29"),
    ("2026-12", "2026-12-01", "2026-12-31")])
def test_a_month(text, first, last):
    month = Month.parse(text)
    assert (month.first_day.isoformat(), month.last_day.isoformat()) == (first, last)


@pytest.mark.parametrize("text", ["2026-13", "2026-0", "26-11", "2026-11-01", "", "十一月"])
def test_a_month_not_understood(text):
    with pytest.raises(ValueError, match="not a month like 2026-11"):
        Month.parse(text)


def test_the_default_month_is_the_last_whole_one():
    assert Month.last_whole(dt.date(2026, 12, 6)).name == "2026-11"
    assert Month.last_whole(dt.date(2027, 1, 1)).name == "2026-12"
    assert Month.last_whole(dt.date(2026, 3, 31)).name == "2026-02"


def test_a_kiosk_sends_its_titles_licence_windows(tmp_path):
    """The real uploader with a real signed batch applied: the server holds each title's
    window as the kiosk's catalogue has it."""
    from content.catalogue import Catalogue
    from content.store import CatalogueStore
    from kiosk.upload.run import upload
    from tests.content_batches import Batches
    from tests.test_upload_central import kiosk_config
    from tests.test_upload_sender import Clock

    with sqlite_central(tmp_path / "central") as central:
        config = kiosk_config(tmp_path, central)
        batches = Batches(tmp_path / "batches", count=22)
        store = CatalogueStore(config.catalogue_dir)
        store.apply(batches.first, batches.public)
        report = upload(config, sleep=Clock().sleep, clock=Clock())
        assert report.error is None and report.catalogue_sent == "2026-11-1"
        catalogue = Catalogue.open(store.current_dir())
        try:
            expected = {(t.id, t.valid_from, t.valid_until) for t in catalogue.all_titles()}
        finally:
            catalogue.close()
        with central.storage.db.read() as conn:
            held = set(map(tuple, conn.all("SELECT title_id, valid_from, valid_until FROM "
                                           "kiosk_titles WHERE kiosk_id = 'kiosk-1'")))
        assert held == expected and len(held) == 22


TITLES = [  # id, title, author, category, licence from, licence until (days from today)
    ("000001", "红楼梦", "曹雪芹", "classics", -300, 3),
    ("000002", "=SUM(A1:A9)", "", "life", -300, 30),   # a formula must stay text
    ("000003", "小熊的旅行", "佚名", "children", -300, 31),  # a day too late for the list
    ("000004", "唐诗三百首", "蘅塘退士", "classics", -300, -1),  # ended yesterday: gone
    ("000005", "中老年人健康手册", "", "health", -300, 0),  # its last day is today
]


def catalogue_body(kiosk_id, titles, dated=True):
    return {"kiosk_id": kiosk_id, "version": "2026-12-1", "titles": [
        {"id": i, "title": t, "author": a, "category": c,
         **({"valid_from": day(f), "valid_until": day(u)} if dated else {})}
        for i, t, a, c, f, u in titles]}


def counts_body(kiosk_id, rows, first_seq=1):
    counts = [{"date": d, "hour": 10, "event": e, "outcome": o, "key": f"book:{k}", "n": n}
              for d, e, o, k, n in rows]
    return {"kiosk_id": kiosk_id, "batch_id": str(uuid.uuid4()),
            "first_seq": first_seq, "last_seq": first_seq + sum(c["n"] for c in counts) - 1,
            "counts": counts}


NOVEMBER = [  # day, event, outcome, title, n
    ("2026-11-03", "ebook_view", "ok", "000001", 9),
    ("2026-11-30", "ebook_view", "ok", "000001", 3),
    ("2026-11-10", "ebook_download", "ok", "000001", 2),
    ("2026-11-12", "ebook_view", "ok", "000002", 5),
    ("2026-11-12", "ebook_download", "ok", "000002", 7),
    ("2026-11-13", "ebook_download", "expired", "000003", 40),  # failed: not counted
    ("2026-11-14", "ebook_view", "ok", "000009", 1),  # a title no catalogue named
    ("2026-10-31", "ebook_view", "ok", "000003", 50),  # another month
    ("2026-12-01", "ebook_download", "ok", "000003", 50),
]


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    storage = Storage.open(database_url(request.param, tmp))
    with serve(storage, tmp) as running:
        tokens = {"liling-lobby-1": add_kiosk(storage, "liling-lobby-1", "醴陵市图书馆"),
                  "liling-children": add_kiosk(storage, "liling-children", "醴陵市图书馆",
                                               "少儿阅览室"),
                  "village-sanhe": add_kiosk(storage, "village-sanhe", "三合村图书室", ""),
                  "village-old": add_kiosk(storage, "village-old", "三合村图书室", "")}
        add_user(storage, "admin", "admin", "醴陵市图书馆", PASSWORD)
        add_user(storage, "liling", "staff", "醴陵市图书馆", PASSWORD)
        add_user(storage, "sanhe", "staff", "三合村图书室", PASSWORD)

        def post(kiosk_id, path, body):
            answer = requests.post(f"{running.url}/api/v1/{path}", json=body, timeout=30,
                                   headers={"Authorization": f"Bearer {tokens[kiosk_id]}"})
            assert answer.status_code == 200, answer.text

        post("liling-lobby-1", "catalogue", catalogue_body("liling-lobby-1", TITLES))
        # The children's room has 红楼梦 until later: the library's list says the first end.
        later = [(*t[:5], 20) if t[0] == "000001" else t for t in TITLES[:3]]
        post("liling-children", "catalogue", catalogue_body("liling-children", later))
        post("village-sanhe", "catalogue", catalogue_body("village-sanhe", [
            ("000007", "家常菜谱", "", "life", -30, 10)]))
        # An older kiosk: titles without licence windows are still taken.
        post("village-old", "catalogue", catalogue_body("village-old", TITLES, dated=False))
        post("liling-lobby-1", "counts", counts_body("liling-lobby-1", NOVEMBER))
        post("village-sanhe", "counts", counts_body("village-sanhe", [
            ("2026-11-20", "ebook_view", "ok", "000007", 100)]))
        yield running
    storage.close()


def page(session, server, query=""):
    answer = session.get(f"{server.url}/figures/titles{query}", timeout=10)
    assert answer.status_code == 200
    return answer.text


def section(html, element_id):
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</table>", start)]


def test_the_page_for_the_library_staff(server):
    session = signed_in(server, "liling")
    figures = session.get(f"{server.url}/figures", timeout=10).text
    assert 'href="/figures/titles"' in figures and "电子书报表" in figures
    html = page(session, server, "?month=2026-11")
    assert "许可在 30 天内到期的电子书" in html
    ending = section(html, "ending")
    assert [n for n in ("中老年人健康手册", "红楼梦", "=SUM(A1:A9)") if n in ending] == [
        "中老年人健康手册", "红楼梦", "=SUM(A1:A9)"]
    assert ending.index("中老年人健康手册") < ending.index("红楼梦") < ending.index("=SUM")
    assert "小熊的旅行" not in ending and "唐诗三百首" not in ending
    assert "家常菜谱" not in html  # the village's title and counts are not this library's
    viewed = section(html, "most-viewed")
    assert viewed.index("红楼梦") < viewed.index("=SUM") < viewed.index("000009")
    downloaded = section(html, "most-downloaded")
    assert downloaded.index("=SUM") < downloaded.index("红楼梦")
    assert "小熊的旅行" not in downloaded  # its only downloads failed or were in December
    assert 'id="undated"' not in html
    # The default is last month; a month not understood says so and shows the default.
    default = Month.last_whole(TODAY).name
    assert f'value="{default}"' in page(session, server)
    wrong = page(session, server, "?month=2026-13")
    assert "月份无法识别" in wrong and f'value="{default}"' in wrong
    session.get(f"{server.url}/lang/en", timeout=10)
    english = page(session, server, "?month=2026-11")
    assert "E-books whose licence ends within 30 days" in english
    assert "Most downloaded e-books" in english
    assert "Classics" in section(english, "most-viewed") and "classics" not in english


def test_the_figures_name_each_category_in_the_readers_language(server):
    """The figures page's category table and chart: 经典名著 or Classics, never `classics`;
    a title no catalogue named has no category, and says so."""
    session = signed_in(server, "liling")
    period = "?from=2026-11-01&to=2026-11-30"
    html = session.get(f"{server.url}/figures{period}", timeout=10).text
    table = section(html, "ebooks-categories")
    assert [n for n in ("经典名著", "生活", "（未分类）") if n in table] == [
        "经典名著", "生活", "（未分类）"]
    assert table.index("经典名著") < table.index("生活") < table.index("（未分类）")
    chart = html[html.index("电子书（按分类）"):]
    assert "经典名著" in chart[:chart.index("</svg>")]
    assert not {"classics", "life"} & set(re.findall(r"[a-z_]+", table))
    session.get(f"{server.url}/lang/en", timeout=10)
    english = session.get(f"{server.url}/figures{period}", timeout=10).text
    table = section(english, "ebooks-categories")
    assert "Classics" in table and "Everyday life" in table and "(no category)" in table
    assert ">classics<" not in english and ">life<" not in english


def test_the_village_sees_its_own_and_its_older_kiosk(server):
    html = page(signed_in(server, "sanhe"), server, "?month=2026-11&library=醴陵市图书馆")
    assert "家常菜谱" in section(html, "ending") and "红楼梦" not in html
    assert "village-old" in html[html.index('id="undated"'):]


def test_the_downloads_as_csv_and_xlsx(server):
    session = signed_in(server, "admin")
    answer = session.get(f"{server.url}/figures/titles.csv?month=2026-11", timeout=10)
    assert answer.status_code == 200
    assert 'filename="kiosk-titles-2026-11.csv"' in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in answer.content
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["许可在 30 天内到期的电子书"]
    assert rows[2] == ["图书馆", "书目编号", "书名", "作者", "分类", "许可到期日", "剩余天数",
                       "自助机数"]
    ending = rows[3:rows.index([])]
    # Categories by their names in the reader's language, never the batch's keys.
    assert ending[0] == ["醴陵市图书馆", "000005", "中老年人健康手册", "", "健康养生", day(0),
                         "0", "1"]
    assert ["醴陵市图书馆", "000001", "红楼梦", "曹雪芹", "经典名著", day(3), "3", "2"] in ending
    assert ["醴陵市图书馆", "000002", "'=SUM(A1:A9)", "", "生活", day(30), "30", "2"] in ending
    assert ["三合村图书室", "000007", "家常菜谱", "", "生活", day(10), "10", "1"] in ending

    answer = session.get(f"{server.url}/figures/titles.xlsx",
                         params={"month": "2026-11", "library": "醴陵市图书馆"}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["许可即将到期", "浏览最多", "下载最多"]
    ending = book["许可即将到期"]
    assert ending["A1"].value == "许可在 30 天内到期的电子书"
    values = [[c.value for c in r] for r in ending.iter_rows(min_row=4)]
    assert [v[2] for v in values] == ["中老年人健康手册", "红楼梦", "'=SUM(A1:A9)"]
    assert ending["C6"].data_type == "s"  # text, never a formula
    assert ending.freeze_panes == "D4" and ending.column_dimensions["C"].width == 32
    viewed = [[c.value for c in r] for r in book["浏览最多"].iter_rows(min_row=4)]
    assert viewed == [[1, "000001", "红楼梦", "曹雪芹", "经典名著", 12, 2],
                      [2, "000002", "'=SUM(A1:A9)", None, "生活", 5, 7],
                      [3, "000009", "000009", None, None, 1, 0]]
    downloaded = [[c.value for c in r] for r in book["下载最多"].iter_rows(min_row=4)]
    assert [r[:3] + r[5:] for r in downloaded] == [[1, "000002", "'=SUM(A1:A9)", 7, 5],
                                                    [2, "000001", "红楼梦", 2, 12]]
    assert session.get(f"{server.url}/figures/titles.pdf", timeout=10).status_code == 404
    signed_out = requests.get(f"{server.url}/figures/titles.csv", timeout=10,
                              allow_redirects=False)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]


def test_the_command_line_report(server, tmp_path, capsys):
    db = ["--db", server.storage.db.url]
    out = tmp_path / "titles.xlsx"
    code = cli.main(["report", "titles", "--month", "2026-11", "--library", "三合村图书室",
                     "--lang", "en", "-o", str(out), *db])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "1 licences ending" in err and "no licence dates from village-old" in err
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Licences ending", "Most viewed", "Most downloaded"]
    assert book["Most viewed"]["C4"].value == "家常菜谱"
    assert book["Most viewed"]["F4"].value == 100
    assert book["Most viewed"]["E4"].value == "Everyday life"
    csv_out = tmp_path / "titles.csv"
    assert cli.main(["report", "titles", "-o", str(csv_out), *db]) == 0
    text = csv_out.read_bytes().decode("utf-8-sig")
    last = Month.last_whole(TODAY)
    assert f"统计时段：{last.first_day} 至 {last.last_day}" in text
    assert cli.main(["report", "-o", str(csv_out), *db]) == 2
    assert "needs --from and --to" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["report", "titles", "--month", "November", "-o", str(csv_out), *db])
    assert "not a month like 2026-11" in capsys.readouterr().err
