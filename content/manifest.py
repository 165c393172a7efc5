"""A batch's manifest.json: read, checked claim by claim, and written (contract "E-book batch").

Every refusal is a BatchError that names the title and what is wrong, in words staff can act
on, Chinese first and then English, as the apply's other refusals (a hand-edited batch is
refused here). Checks against the files and the current catalogue are the store's; this module
checks only what the manifest says of itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import NamedTuple

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
OPTIONAL_TEXT = ("publisher",)  # may be left out: batches built before it still apply


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


class Where(NamedTuple):
    """What a refusal is about ("title 000123 cover"), in Chinese and in English."""
    zh: str
    en: str


THE_MANIFEST = Where("清单", "the manifest")


def refusal(zh: str, en: str) -> BatchError:
    """A refusal as the apply words them all: "中文 / English", one line for the log."""
    return BatchError(f"{zh} / {en}")


def parse_manifest(data: bytes) -> Manifest:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise refusal(f"manifest.json 不是有效的 UTF-8 JSON（{e}）",
                      f"manifest.json is not valid UTF-8 JSON: {e}") from None
    except RecursionError:  # json recurses into arrays and objects
        raise refusal("manifest.json 不是清单：数组或对象嵌套太深",
                      "manifest.json is not a manifest: arrays or objects nested too "
                      "deeply") from None
    if not isinstance(doc, dict):
        raise refusal("manifest.json 不是 JSON 对象", "manifest.json is not a JSON object")
    if doc.get("format") != FORMAT:
        raise refusal(f"清单格式 {doc.get('format')!r} 不是 {FORMAT}：本工具只读格式 1",
                      f"manifest format {doc.get('format')!r} is not {FORMAT}: this kiosk "
                      "reads format 1")
    batch = doc.get("batch")
    if not isinstance(batch, str) or not BATCH_NAME.match(batch):
        raise refusal(f"批次名 {batch!r} 不是 2026-12 这样的名称",
                      f"the batch name {batch!r} is not a name like 2026-12")
    created = _text(doc, "created", THE_MANIFEST)
    titles = doc.get("titles")
    if not isinstance(titles, list):
        raise refusal("清单里没有书目列表", "the manifest has no list of titles")
    if doc.get("title_count") != len(titles):
        raise refusal(f"清单声称有 {doc.get('title_count')!r} 种书目，实际列出 {len(titles)} 种",
                      f"the manifest claims {doc.get('title_count')!r} titles but lists "
                      f"{len(titles)}")
    entries = tuple(_entry(item, number) for number, item in enumerate(titles, 1))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise refusal(f"书目 {entry.id} 在清单里出现了两次",
                          f"title {entry.id} appears twice in the manifest")
        seen.add(entry.id)
    paths: set[str] = set()
    for path in (ref.path for e in entries for ref in (e.cover, e.file) if ref):
        if path in paths:
            raise refusal(f"两种书目指向同一个文件 {path}",
                          f"two titles name the same file {path}")
        paths.add(path)
    return Manifest(batch, created, entries)


def _entry(item: object, number: int) -> Entry:
    if not isinstance(item, dict):
        raise refusal(f"清单第 {number} 项不是对象", f"entry {number} of the manifest is not an "
                      "object")
    title_id = item.get("id")
    if not isinstance(title_id, str) or not TITLE_ID.match(title_id):
        raise refusal(f"第 {number} 项没有可用的编号（{title_id!r}）：只能用字母、数字、- 和 _",
                      f"entry {number} has no usable id ({title_id!r}): letters, digits, "
                      "- and _ only")
    action = item.get("action")
    if action not in ACTIONS:
        raise refusal(f"书目 {title_id}：操作 {action!r} 不是 add、update 或 withdraw",
                      f"title {title_id}: action {action!r} is not add, update or withdraw")
    if action == "withdraw":
        return Entry(title_id, action)
    where = Where(f"书目 {title_id}", f"title {title_id}")
    text = {name: _text(item, name, where, empty_ok=name in ("isbn", "summary"))
            for name in TEXT_FIELDS}
    text.update({name: _text(item, name, where, empty_ok=True) for name in OPTIONAL_TEXT
                 if name in item})
    if text["category"] not in CATEGORIES:
        raise refusal(f"{where.zh}：未知分类 {text['category']!r}（可用："
                      + "、".join(f"{key}（{zh}）" for key, (zh, _en) in CATEGORIES.items())
                      + "）",
                      f"{where.en}: unknown category {text['category']!r} "
                      f"(known: {', '.join(CATEGORIES)})")
    for name in ("valid_from", "valid_until"):
        try:
            # Kept as YYYY-MM-DD, whatever ISO form it came in ("20261201"): the catalogue
            # compares licence dates as text.
            text[name] = dt.date.fromisoformat(text[name]).isoformat()
        except ValueError:
            raise refusal(f"{where.zh}：{name} {text[name]!r} 不是 2026-12-01 这样的日期",
                          f"{where.en}: {name} {text[name]!r} is not a date like 2026-12-01") \
                from None
    if text["valid_from"] > text["valid_until"]:
        raise refusal(f"{where.zh}：授权结束日期（{text['valid_until']}）早于开始日期"
                      f"（{text['valid_from']}）",
                      f"{where.en}: the licence ends ({text['valid_until']}) before it starts "
                      f"({text['valid_from']})")
    cover = _file_ref(item.get("cover"), "covers",
                      Where(f"{where.zh} 的封面", f"{where.en} cover"))
    file = _file_ref(item.get("file"), "books",
                     Where(f"{where.zh} 的电子书文件", f"{where.en} file"))
    book_format = item["file"].get("format")
    if not isinstance(book_format, str) or book_format not in FORMATS:
        raise refusal(f"{where.zh}：格式 {book_format!r} 不是 {'、'.join(FORMATS)} 之一",
                      f"{where.en}: format {book_format!r} is not one of {', '.join(FORMATS)}")
    if not file.path.lower().endswith("." + book_format):
        raise refusal(f"{where.zh}：{file.path} 的扩展名不是 .{book_format}",
                      f"{where.en}: {file.path} does not end in .{book_format}")
    title = Title(id=title_id, cover="", file="", size=file.size, sha256=file.sha256,
                  format=book_format, **text)
    return Entry(title_id, action, title, cover, file)


def _text(item: dict, name: str, where: Where, *, empty_ok: bool = False) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not (value.strip() or empty_ok) or len(value) > 4000:
        raise refusal(f"{where.zh}：{name} 缺失或不是文本",
                      f"{where.en}: {name} is missing or not text")
    return value.strip()


def _file_ref(ref: object, folder: str, where: Where) -> FileRef:
    if not isinstance(ref, dict):
        raise refusal(f"{where.zh}缺失", f"{where.en} is missing")
    path, size, digest = ref.get("path"), ref.get("size"), ref.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise refusal(f"{where.zh}：大小 {size!r} 不是字节数",
                      f"{where.en}: size {size!r} is not a number of bytes")
    if not isinstance(digest, str) or not SHA256.match(digest):
        raise refusal(f"{where.zh}：sha256 {digest!r} 不是 64 位小写十六进制数",
                      f"{where.en}: sha256 {digest!r} is not 64 lower-case hex digits")
    return FileRef(check_path(path, folder, where), size, digest)


def check_path(path: object, folder: str, where: Where) -> str:
    """A plain relative path inside `folder`: nothing that could reach outside the batch."""
    parts = path.split("/") if isinstance(path, str) else []
    if len(parts) != 2 or parts[0] != folder or not PATH_PART.match(parts[1]):
        # No "/ " in the Chinese part: the admin screen splits the languages there.
        raise refusal(f"{where.zh}：路径 {path!r} 不是 {folder} 文件夹里的普通文件名"
                      "（不能有 ..、绝对路径或子文件夹）",
                      f"{where.en}: path {path!r} is not a plain file name under {folder}/ "
                      "(no .., no absolute or nested paths)")
    return "/".join(parts)


def manifest_bytes(batch: str, created: str, entries: list[dict]) -> bytes:
    """The manifest as the build writes it: stable key order, UTF-8, Chinese unescaped."""
    doc = {"format": FORMAT, "batch": batch, "created": created, "title_count": len(entries),
           "titles": entries}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
