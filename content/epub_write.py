"""Small valid EPUB 3 files, for the sample catalogue: `mimetype` first and stored, the
container, a package document with the cover marked for EPUB 3 and EPUB 2 readers, a
navigation document and the chapters. Byte-identical for the same input (fixed zip times)."""

from __future__ import annotations

import zipfile
from html import escape
from pathlib import Path

ZIP_TIME = (2026, 1, 1, 0, 0, 0)
CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" \
media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""


def write_epub(path: Path, *, isbn: str, title: str, author: str, chapters: list[tuple[str, str]],
               cover_jpeg: bytes, modified: str = "2026-01-01T00:00:00Z") -> None:
    """`chapters` are (heading, text) pairs; text paragraphs are separated by blank lines."""
    items = [f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>'
             for n in range(1, len(chapters) + 1)]
    spine = "".join(f'<itemref idref="c{n}"/>' for n in range(1, len(chapters) + 1))
    opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="zh">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:isbn:{escape(isbn)}</dc:identifier>
    <dc:title>{escape(title)}</dc:title>
    <dc:creator>{escape(author)}</dc:creator>
    <dc:language>zh</dc:language>
    <meta property="dcterms:modified">{modified}</meta>
    <meta name="cover" content="cover"/>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="cover" href="cover.jpg" media-type="image/jpeg" properties="cover-image"/>
    {"".join(items)}
  </manifest>
  <spine>{spine}</spine>
</package>
"""
    nav_items = "".join(f'<li><a href="c{n}.xhtml">{escape(heading)}</a></li>'
                        for n, (heading, _text) in enumerate(chapters, 1))
    nav = _page(title, f'<nav epub:type="toc"><h1>{escape(title)}</h1><ol>{nav_items}</ol></nav>')
    with zipfile.ZipFile(path, "w") as book:
        _add(book, "mimetype", b"application/epub+zip", zipfile.ZIP_STORED)
        _add(book, "META-INF/container.xml", CONTAINER.encode())
        _add(book, "OEBPS/content.opf", opf.encode())
        _add(book, "OEBPS/nav.xhtml", nav.encode())
        _add(book, "OEBPS/cover.jpg", cover_jpeg, zipfile.ZIP_STORED)
        for n, (heading, text) in enumerate(chapters, 1):
            body = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))
            _add(book, f"OEBPS/c{n}.xhtml", _page(heading, f"<h2>{escape(heading)}</h2>{body}")
                 .encode())


def _page(heading: str, body: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"'
            f' xml:lang="zh"><head><meta charset="UTF-8"/><title>{escape(heading)}</title></head>'
            f"<body>{body}</body></html>\n")


def _add(book: zipfile.ZipFile, name: str, data: bytes,
         compress: int = zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = compress
    book.writestr(info, data)
