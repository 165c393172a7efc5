"""What the build needs from an EPUB staff hand in: that it is one, and its cover image."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree

CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
OPF_NS = "{http://www.idpf.org/2007/opf}"
MIMETYPE = b"application/epub+zip"


class NotAnEpub(ValueError):
    """The file is not a usable EPUB; the message says why."""


def epub_cover(path: Path) -> bytes | None:
    """The cover image's bytes (EPUB 3 `cover-image`, else EPUB 2 `<meta name="cover">`), or
    None when the book names none. Raises NotAnEpub for anything that isn't an EPUB."""
    try:
        with zipfile.ZipFile(path) as book:
            names = book.namelist()
            if not names or names[0] != "mimetype" or book.read("mimetype").strip() != MIMETYPE:
                raise NotAnEpub("it does not start with the EPUB mimetype entry")
            opf_path = _package_path(book)
            opf = ElementTree.fromstring(book.read(opf_path))
            href = _cover_href(opf)
            if href is None:
                return None
            full = posixpath.normpath(posixpath.join(posixpath.dirname(opf_path), href))
            return book.read(full)
    except NotAnEpub:
        raise
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as e:
        raise NotAnEpub(f"it cannot be read as an EPUB ({e})") from None


def _package_path(book: zipfile.ZipFile) -> str:
    container = ElementTree.fromstring(book.read("META-INF/container.xml"))
    rootfile = container.find(f".//{CONTAINER_NS}rootfile")
    path = rootfile.get("full-path") if rootfile is not None else None
    if not path:
        raise NotAnEpub("its container.xml names no package document")
    return path


def _cover_href(opf: ElementTree.Element) -> str | None:
    items = opf.findall(f"{OPF_NS}manifest/{OPF_NS}item")
    for item in items:
        if "cover-image" in (item.get("properties") or "").split():
            return item.get("href")
    for meta in opf.iter(f"{OPF_NS}meta"):
        if meta.get("name") == "cover":
            for item in items:
                if item.get("id") == meta.get("content"):
                    return item.get("href")
    return None
