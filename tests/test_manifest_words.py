"""A hand-edited manifest is refused in Chinese first, then English (" / " between them, as the
apply's other refusals and the admin screen's split expect), and both say the same facts: the
title, the field and the value that is wrong (issue 17)."""

import json
import re

import pytest

from content.errors import BatchError
from content.manifest import manifest_bytes, parse_manifest

SHA = "0" * 64


def entry(**changes):
    good = {"id": "000001", "action": "add", "isbn": "", "title": "红楼梦", "author": "曹雪芹",
            "category": "classics", "summary": "", "valid_from": "2026-01-01",
            "valid_until": "2027-01-01",
            "cover": {"path": "covers/000001.jpg", "size": 1, "sha256": SHA},
            "file": {"path": "books/000001.epub", "size": 1, "sha256": SHA, "format": "epub"}}
    return {**good, **changes}


def doc(listed=None, **changes) -> bytes:
    data = json.loads(manifest_bytes("2026-12", "2026-12-01T00:00:00+00:00",
                                     listed or [entry()]))
    return json.dumps({**data, **changes}).encode()


def file(**changes):
    return {"path": "books/000001.epub", "size": 1, "sha256": SHA, "format": "epub", **changes}


CASES = {  # name: (manifest, English words, facts both parts name)
    "not json": (b"{oops", "is not valid UTF-8 JSON", ["manifest.json"]),
    "nested": (b"[" * 100_000, "nested too deeply", ["manifest.json"]),
    "not an object": (b"[]", "is not a JSON object", ["manifest.json"]),
    "format": (doc(format=2), "manifest format 2 is not 1", ["2"]),
    "batch name": (doc(batch="../x"), "the batch name '../x' is not a name like 2026-12",
                   ["'../x'", "2026-12"]),
    "created": (doc(created=5), "the manifest: created is missing or not text", ["created"]),
    "no titles": (doc(titles={}), "has no list of titles", []),
    "count": (doc(title_count=5), "claims 5 titles but lists 1", ["5", "1"]),
    "twice": (doc([entry(), entry()], title_count=2), "title 000001 appears twice",
              ["000001"]),
    "same file": (doc([entry(), entry(id="000002")], title_count=2),
                  "two titles name the same file covers/000001.jpg", ["covers/000001.jpg"]),
    "entry": (doc(["x"]), "entry 1 of the manifest is not an object", ["1"]),
    "id": (doc([entry(id="a b")]), "entry 1 has no usable id ('a b')", ["'a b'"]),
    "action": (doc([entry(action="delete")]), "title 000001: action 'delete' is not add",
               ["000001", "'delete'"]),
    "category": (doc([entry(category="poetry")]), "title 000001: unknown category 'poetry'",
                 ["000001", "'poetry'", "classics", "economics"]),
    "date": (doc([entry(valid_until="2026-13-01")]),
             "title 000001: valid_until '2026-13-01' is not a date like 2026-12-01",
             ["000001", "valid_until", "'2026-13-01'"]),
    "licence": (doc([entry(valid_from="2027-02-01")]),
                "the licence ends (2027-01-01) before it starts (2027-02-01)",
                ["000001", "2027-01-01", "2027-02-01"]),
    "text": (doc([entry(title=7)]), "title 000001: title is missing or not text",
             ["000001", "title"]),
    "cover": (doc([entry(cover=None)]), "title 000001 cover is missing", ["000001"]),
    "size": (doc([entry(file=file(size=-1))]), "title 000001 file: size -1 is not a number",
             ["000001", "-1"]),
    "sha256": (doc([entry(file=file(sha256="xyz"))]), "sha256 'xyz' is not 64 lower-case hex",
               ["000001", "'xyz'", "64"]),
    "format name": (doc([entry(file=file(format="mobi"))]),
                    "format 'mobi' is not one of epub, pdf", ["000001", "'mobi'", "epub"]),
    "ending": (doc([entry(file=file(format="pdf"))]),
               "books/000001.epub does not end in .pdf", ["books/000001.epub", ".pdf"]),
    "path": (doc([entry(file=file(path="../books/x.epub"))]),
             "path '../books/x.epub' is not a plain file name under books/",
             ["000001", "'../books/x.epub'", "books"]),
}


@pytest.mark.parametrize("name", CASES)
def test_a_malformed_manifest_is_refused_in_chinese_then_english(name):
    data, english, facts = CASES[name]
    with pytest.raises(BatchError) as refused:
        parse_manifest(data)
    chinese, _, rest = str(refused.value).partition(" / ")
    assert re.search(r"[\u4e00-\u9fff]", chinese), str(refused.value)
    assert not re.search(r"[\u4e00-\u9fff]", rest) and english in rest, str(refused.value)
    assert all(fact in chinese and fact in rest for fact in facts), str(refused.value)
