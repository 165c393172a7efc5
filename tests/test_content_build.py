"""Building a batch from what staff hand in, and the sample source the demo starts from."""

import csv
import hashlib
import io
import json
import zipfile
from xml.etree import ElementTree

import pytest
from PIL import Image

from common.categories import CATEGORIES
from content.build import build_batch
from content.errors import BatchError
from content.sample import make_monthly_source, make_sample_source, sample_rows
from content.signing import keygen


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("key")
    keygen(folder / "k", folder / "k.pub")
    return folder / "k"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_sample_source(tmp_path_factory.mktemp("sample") / "src", count=40)


def rows_of(src):
    return list(csv.DictReader(io.StringIO((src / "metadata.csv").read_text("utf-8-sig"))))


def test_the_sample_is_a_realistic_chinese_catalogue(sample):
    rows = rows_of(sample)
    assert [r["title"] for r in rows[:3]] == ["红楼梦", "西游记", "水浒传"]
    assert rows[0]["author"] == "曹雪芹"
    assert len({r["id"] for r in rows}) == len({r["title"] for r in rows}) == 40
    for row in rows:
        digits = row["isbn"]
        assert len(digits) == 13 and digits.startswith("9787")
        assert sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0
        assert any("\u4e00" <= c <= "\u9fff" for c in row["title"] + row["author"])
        assert row["category"] in CATEGORIES
    many = sample_rows(1000)
    assert {r.category for r in many} == set(CATEGORIES)
    assert any(r.valid_until < "2026-11-01" for r in many)  # some licences have ended
    assert any(r.valid_from > "2026-11-01" for r in many)  # some have not begun


def test_every_sample_epub_is_well_formed(sample):
    for path in sorted((sample / "books").iterdir()):
        with zipfile.ZipFile(path) as book:
            first = book.infolist()[0]
            assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
            assert book.read("mimetype") == b"application/epub+zip"
            container = ElementTree.fromstring(book.read("META-INF/container.xml"))
            opf_path = container.find(".//{*}rootfile").get("full-path")
            opf = ElementTree.fromstring(book.read(opf_path))
            for element in ("identifier", "title", "creator", "language"):
                assert opf.find(f".//{{http://purl.org/dc/elements/1.1/}}{element}").text
            for item in opf.iter("{http://www.idpf.org/2007/opf}item"):
                data = book.read("OEBPS/" + item.get("href"))
                if item.get("media-type") == "application/xhtml+xml":
                    ElementTree.fromstring(data)
                if "cover-image" in (item.get("properties") or ""):
                    assert Image.open(io.BytesIO(data)).size == (360, 480)


def test_the_sample_is_the_same_for_the_same_seed(tmp_path, sample):
    again = make_sample_source(tmp_path / "again", count=40)
    other = make_sample_source(tmp_path / "other", count=40, seed=7)
    for name in ("metadata.csv", "books/000001.epub", "books/000030.epub"):
        assert (again / name).read_bytes() == (sample / name).read_bytes()
    assert (other / "metadata.csv").read_bytes() != (sample / "metadata.csv").read_bytes()


def test_the_monthly_source_adds_updates_and_withdraws(tmp_path):
    src = make_monthly_source(tmp_path / "m", count=4, first_id=41, base_count=40)
    actions = [(r["id"], r["action"]) for r in rows_of(src)]
    assert [a for a in actions if a[1] == "add"] == [(f"0000{n}", "add") for n in range(41, 45)]
    assert sum(a[1] == "update" for a in actions) == 3
    assert sum(a[1] == "withdraw" for a in actions) == 2


def test_a_built_batch_matches_its_files(sample, key, tmp_path):
    report = build_batch(sample, tmp_path / "b", key, "2026-11")
    assert (report.added, report.covers_from_books, report.covers_drawn) == (40, 40, 0)
    manifest = json.loads((tmp_path / "b/manifest.json").read_text("utf-8"))
    assert manifest["title_count"] == 40 and manifest["batch"] == "2026-11"
    for entry in manifest["titles"]:
        for ref in (entry["cover"], entry["file"]):
            data = (tmp_path / "b" / ref["path"]).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (ref["size"], ref["sha256"])
        assert Image.open(tmp_path / "b" / entry["cover"]["path"]).size == (360, 480)


def write_sheet(src, rows, encoding="utf-8-sig"):
    header = "id,isbn,title,author,category,summary,file,cover,valid_from,valid_until,action"
    (src / "metadata.csv").write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode(encoding))


def test_a_gb18030_sheet_a_pdf_and_a_given_cover(tmp_path, key):
    src = tmp_path / "src"
    (src / "files").mkdir(parents=True)
    (src / "files/手册.pdf").write_bytes(b"%PDF-1.4\n%fake but starts right\n")
    Image.new("RGB", (800, 1200), (10, 200, 30)).save(src / "files/cover.png")
    write_sheet(src, ["a1,978-7-111-11111-5,健康手册,王伟,健康养生,简介,files/手册.pdf,,"
                      "2026-01-01,2027-01-01,",
                      "a2,,图鉴,李娜,science,,files/手册.pdf,files/cover.png,2026-01-01,"
                      "2027-01-01,add"], encoding="gb18030")
    report = build_batch(src, tmp_path / "b.tar", key, "2026-12")
    assert "GB18030" in report.sheet and report.covers_drawn == 1


def test_an_xlsx_sheet_is_read(tmp_path, key, sample):
    import datetime as dt

    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "isbn", "title", "author", "category", "file", "valid_from",
                  "valid_until"])
    sheet.append(["x1", 9787020002207, "红楼梦", "曹雪芹", "经典名著",
                  str(sample / "books/000001.epub"), dt.date(2026, 1, 1), dt.date(2028, 1, 1)])
    src = tmp_path / "src"
    src.mkdir()
    (src / "books").symlink_to(sample / "books")
    sheet["F2"] = "books/000001.epub"
    book.save(src / "metadata.xlsx")
    report = build_batch(src, tmp_path / "b", key, "2026-12")
    entry = json.loads((tmp_path / "b/manifest.json").read_text("utf-8"))["titles"][0]
    assert report.sheet == "metadata.xlsx" and entry["isbn"] == "9787020002207"
    assert entry["category"] == "classics" and entry["valid_from"] == "2026-01-01"


def test_a_publisher_column_reaches_the_manifest_and_a_sheet_without_one_leaves_it_out(
        tmp_path, key):
    src = tmp_path / "src"
    (src / "files").mkdir(parents=True)
    (src / "files/a.pdf").write_bytes(b"%PDF-1.4\n%fake but starts right\n")
    header = "编号,书名,作者,出版社,分类,文件,授权开始日期,授权结束日期"
    (src / "metadata.csv").write_text(
        f"{header}\r\np1,健康手册,王伟,人民卫生出版社,life,files/a.pdf,2026-01-01,2027-01-01\r\n"
        "p2,图鉴,李娜,,science,files/a.pdf,2026-01-01,2027-01-01\r\n", encoding="utf-8-sig")
    build_batch(src, tmp_path / "b", key, "2026-12")
    entries = json.loads((tmp_path / "b/manifest.json").read_text("utf-8"))["titles"]
    assert entries[0]["publisher"] == "人民卫生出版社" and "publisher" not in entries[1]


def test_every_bad_row_is_named_at_once_and_nothing_is_written(tmp_path, key):
    src = tmp_path / "src"
    src.mkdir()
    (src / "not.epub").write_bytes(b"PK not really")
    write_sheet(src, ["b1,,书,,poetry,,missing.epub,,2026-01-01,2025-01-01,",
                      "b1,,书二,某,life,,not.epub,,someday,2027-01-01,",
                      "b3,,书三,某,life,,../outside.epub,,2026-01-01,2027-01-01,lend"])
    with pytest.raises(BatchError) as refused:
        build_batch(src, tmp_path / "b.tar", key, "2026-12")
    message = str(refused.value)
    for expected in ("row 2, author: empty", "row 2, category: 'poetry'", "row 2, file: "
                     "missing.epub not found", "row 2, valid_until: the licence ends",
                     "row 3, id: b1 appears twice", "row 3, valid_from: 'someday'",
                     "row 3, file: not.epub is not a valid EPUB", "row 4, action: 'lend'",
                     "row 4, file: ../outside.epub is outside"):
        assert expected in message
    assert not (tmp_path / "b.tar").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src"]  # no temporary left behind
