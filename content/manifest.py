"""A batch's manifest.json: read, checked claim by claim, and written (contract "E-book batch").

Every refusal is a BatchError that names the title and what is wrong, in words staff can act
on. Checks against the files and the current catalogue are the store's; this module checks
only what the manifest says of itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from common.batch_names import BATCH_NAME
from common.categories import CATEGORIES
from content.errors import BatchError
from content.title import FORMATS, Title

FORMAT = 1
ACTIONS = ("add", "update", "withdraw")
TITLE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
PATH_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")
TEXT_FIELDS = ("isbn", "title", "author", "category", "summary", "valid_from", "valid_until")


@dataclass(frozen=True)
class FileRef:
    path: str  # relative to the batch: "books/000123.epub"
    size: int
    sha256: str


@dataclass(frozen=True)
class Entry:
    id: str
    action: str
    title: Title | None = None  # for add and update; paths and `added` filled in by the store
    cover: FileRef | None = None
    file: FileRef | None = None


@dataclass(frozen=True)
class Manifest:
    batch: str
    created: str
    entries: tuple[Entry, ...]

    def files(self) -> dict[str, FileRef]:
        """Every file the batch must carry, by path."""
        return {ref.path: ref for e in self.entries for ref in (e.cover, e.file) if ref}


def parse_manifest(data: bytes) -> Manifest:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BatchError(f"manifest.json is not valid UTF-8 JSON: {e}") from None
    except RecursionError:  # json recurses into arrays and objects
        raise BatchError("manifest.json is not a manifest: arrays or objects nested too "
                         "deeply") from None
    if not isinstance(doc, dict):
        raise BatchError("manifest.json is not a JSON object")
    if doc.get("format") != FORMAT:
        raise BatchError(f"manifest format {doc.get('format')!r} is not {FORMAT}: this kiosk "
                         "reads format 1")
    batch = doc.get("batch")
    if not isinstance(batch, str) or not BATCH_NAME.match(batch):
        raise BatchError(f"the batch name {batch!r} is not a name like 2026-12")
    created = _text(doc, "created", "the manifest")
    titles = doc.get("titles")
    if not isinstance(titles, list):
        raise BatchError("the manifest has no list of titles")
    if doc.get("title_count") != len(titles):
        raise BatchError(f"the manifest claims {doc.get('title_count')!r} titles but lists "
                         f"{len(titles)}")
    entries = tuple(_entry(item, number) for number, item in enumerate(titles, 1))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise BatchError(f"title {entry.id} appears twice in the manifest")
        seen.add(entry.id)
    paths = [ref.path for e in entries for ref in (e.cover, e.file) if ref]
    if len(paths) != len(set(paths)):
        raise BatchError("two titles name the same file")
    return Manifest(batch, created, entries)


def _entry(item: object, number: int) -> Entry:
    if not isinstance(item, dict):
        raise BatchError(f"entry {number} of the manifest is not an object")
    title_id = item.get("id")
    if not isinstance(title_id, str) or not TITLE_ID.match(title_id):
        raise BatchError(f"entry {number} has no usable id ({title_id!r}): letters, digits, "
                         "- and _ only")
    action = item.get("action")
    if action not in ACTIONS:
        raise BatchError(f"title {title_id}: action {action!r} is not add, update or withdraw")
    if action == "withdraw":
        return Entry(title_id, action)
    where = f"title {title_id}"
    text = {name: _text(item, name, where, empty_ok=name in ("isbn", "summary"))
            for name in TEXT_FIELDS}
    if text["category"] not in CATEGORIES:
        raise BatchError(f"{where}: unknown category {text['category']!r} "
                         f"(known: {', '.join(CATEGORIES)})")
    for name in ("valid_from", "valid_until"):
        try:
            # Kept as YYYY-MM-DD, whatever ISO form it came in ("20261201"): the catalogue
            # compares licence dates as text.
            text[name] = dt.date.fromisoformat(text[name]).isoformat()
        except ValueError:
            raise BatchError(f"{where}: {name} {text[name]!r} is not a date like 2026-12-01") \
                from None
    if text["valid_from"] > text["valid_until"]:
        raise BatchError(f"{where}: the licence ends ({text['valid_until']}) before it starts "
                         f"({text['valid_from']})")
    cover = _file_ref(item.get("cover"), "covers", where + " cover")
    file = _file_ref(item.get("file"), "books", where + " file")
    book_format = item["file"].get("format")
    if not isinstance(book_format, str) or book_format not in FORMATS:
        raise BatchError(f"{where}: format {book_format!r} is not one of {', '.join(FORMATS)}")
    if not file.path.lower().endswith("." + book_format):
        raise BatchError(f"{where}: {file.path} does not end in .{book_format}")
    title = Title(id=title_id, cover="", file="", size=file.size, sha256=file.sha256,
                  format=book_format, **text)
    return Entry(title_id, action, title, cover, file)


def _text(item: dict, name: str, where: str, *, empty_ok: bool = False) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not (value.strip() or empty_ok) or len(value) > 4000:
        raise BatchError(f"{where}: {name} is missing or not text")
    return value.strip()


def _file_ref(ref: object, folder: str, where: str) -> FileRef:
    if not isinstance(ref, dict):
        raise BatchError(f"{where} is missing")
    path, size, digest = ref.get("path"), ref.get("size"), ref.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BatchError(f"{where}: size {size!r} is not a number of bytes")
    if not isinstance(digest, str) or not SHA256.match(digest):
        raise BatchError(f"{where}: sha256 {digest!r} is not 64 lower-case hex digits")
    return FileRef(check_path(path, folder, where), size, digest)


def check_path(path: object, folder: str, where: str) -> str:
    """A plain relative path inside `folder`: nothing that could reach outside the batch."""
    parts = path.split("/") if isinstance(path, str) else []
    if len(parts) != 2 or parts[0] != folder or not PATH_PART.match(parts[1]):
        raise BatchError(f"{where}: path {path!r} is not a plain file name under {folder}/ "
                         "(no .., no absolute or nested paths)")
    return "/".join(parts)


def manifest_bytes(batch: str, created: str, entries: list[dict]) -> bytes:
    """The manifest as the build writes it: stable key order, UTF-8, Chinese unescaped."""
    doc = {"format": FORMAT, "batch": batch, "created": created, "title_count": len(entries),
           "titles": entries}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
