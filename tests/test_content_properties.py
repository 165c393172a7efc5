"""A batch's manifest.json and the staff's metadata sheet are outside bytes: whatever they hold,
reading them gives a manifest (or rows) or a BatchError naming what is wrong, never another
exception; and a licence date is kept in the one form the catalogue compares."""

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.errors import BatchError
from content.manifest import manifest_bytes, parse_manifest
from content.metadata import Row, _csv, check_row
from tests.property_budget import PARSER_BUDGET

GOOD_TITLE = {
    "id": "000123", "action": "add", "isbn": "9787020002207", "title": "红楼梦",
    "author": "曹雪芹", "category": "classics", "summary": "", "valid_from": "2026-12-01",
    "valid_until": "2027-11-30",
    "cover": {"path": "covers/000123.jpg", "size": 10, "sha256": "a" * 64},
    "file": {"path": "books/000123.epub", "size": 20, "sha256": "b" * 64, "format": "epub"},
}
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
KEYS = st.sampled_from(["format", "batch", "created", "title_count", "titles", "id", "action",
                        "valid_from", "valid_until", "cover", "file", "path", "size", "sha256",
                        "category", "title", "author", "isbn", "summary", "publisher"])


def parsed_or_refused(data: bytes):
    try:
        return parse_manifest(data)
    except BatchError as e:
        assert str(e)
        return None


@st.composite
def damaged_manifests(draw):
    """A good manifest with a few values, anywhere in it, replaced by any JSON."""
    doc = json.loads(manifest_bytes("2026-12", "2026-12-01T00:00:00Z", [copy.deepcopy(GOOD_TITLE)]))
    title = doc["titles"][0]
    targets = [doc, title, title["cover"], title["file"]]  # before any is replaced
    for _ in range(draw(st.integers(1, 3))):
        draw(st.sampled_from(targets))[draw(KEYS)] = draw(JSON)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@PARSER_BUDGET
@given(st.one_of(damaged_manifests(), JSON.map(lambda v: json.dumps(v).encode()),
                 st.binary(max_size=100)))
def test_any_manifest_gives_a_manifest_or_a_batch_error(data):
    parsed_or_refused(data)


def test_a_good_manifest_reads_back():
    manifest = parse_manifest(manifest_bytes("2026-12", "2026-12-01T00:00:00Z", [GOOD_TITLE]))
    assert manifest.entries[0].title.title == "红楼梦"


def test_the_publisher_is_optional_text():
    def read(**extra):
        entry = {**copy.deepcopy(GOOD_TITLE), **extra}
        return parse_manifest(manifest_bytes("2026-12", "2026-12-01T00:00:00Z", [entry]))
    assert read().entries[0].title.publisher == ""  # batches built before it still apply
    assert read(publisher=" 人民文学出版社 ").entries[0].title.publisher == "人民文学出版社"
    with pytest.raises(BatchError, match="publisher"):
        read(publisher=["中华书局"])


@pytest.mark.parametrize("book_format", [["epub"], {"epub": 1}, 3, None])
def test_a_format_that_is_not_text_is_refused(book_format):
    title = copy.deepcopy(GOOD_TITLE)
    title["file"]["format"] = book_format  # a list raised TypeError (unhashable) before
    with pytest.raises(BatchError, match="format"):
        parse_manifest(manifest_bytes("2026-12", "2026-12-01T00:00:00Z", [title]))


def test_a_manifest_nested_without_end_is_refused():
    with pytest.raises(BatchError, match="nested"):
        parse_manifest(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("given_date", ["20261201", "2026-W49-2"])
def test_licence_dates_in_other_iso_forms_are_kept_as_yyyy_mm_dd(given_date):
    """The catalogue compares licence dates as text: '20261201' sorted after '2026-12-05'."""
    title = {**GOOD_TITLE, "valid_from": given_date}
    entry = parse_manifest(manifest_bytes("2026-12", "x", [title])).entries[0]
    assert entry.title.valid_from == "2026-12-01"
    row = Row(2, {"id": "000123", "title": "t", "author": "a", "category": "classics",
                  "file": "x.epub", "valid_from": given_date, "valid_until": "2027-01-01"})
    assert check_row(row) == [] and row.values["valid_from"] == "2026-12-01"


@PARSER_BUDGET
@given(st.one_of(st.binary(max_size=200),
                 st.lists(st.lists(st.text(max_size=10), max_size=5), max_size=4).map(
                     lambda rows: "\n".join(",".join(r) for r in
                                            [["id", "title", "author", "category", "file",
                                              "valid_from", "valid_until"], *rows])
                     .encode("utf-8"))))
def test_any_metadata_csv_gives_rows_or_a_batch_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("sheet") / "metadata.csv"
    path.write_bytes(data)
    try:
        rows, _ = _csv(path)
    except BatchError:
        return
    for row in rows:
        check_row(row)


def test_a_metadata_csv_with_a_nul_is_refused_with_its_name(tmp_path):
    path = tmp_path / "metadata.csv"
    path.write_bytes(b"id,title\n1,\x00\n")
    with pytest.raises(BatchError, match="metadata.csv"):
        _csv(path)
