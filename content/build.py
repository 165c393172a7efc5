"""`kiosk content build`: a staff folder of EPUB/PDF files and a metadata sheet becomes a signed
batch (a .tar, or a folder), ready for `kiosk content apply` on every kiosk.

Covers come from the sheet's `cover` column, else from inside the EPUB, else (a PDF) are drawn;
all are resized to fit 360x480 and saved as JPEG, the size the title page shows. Nothing is
written unless every row is good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from content.batch_source import MANIFEST, SIGNATURE
from content.cover_art import COVER_SIZE, draw_cover
from content.epub_read import epub_cover
from content.errors import BatchError
from content.manifest import BATCH_NAME, manifest_bytes
from content.metadata import Row, read_sheet
from content.signing import load_private
from content.source_check import check_source
from content.staff_text import bilingual


@dataclass(frozen=True)
class BuildReport:
    batch: str
    out: Path
    sheet: str  # which sheet was read, and its encoding
    added: int
    updated: int
    withdrawn: int
    covers_from_books: int
    covers_drawn: int
    warnings: tuple[str, ...] = ()  # for staff; they did not stop the build


def build_batch(src: Path, out: Path, private_key: Path, batch: str | None = None, *,
                now: dt.datetime | None = None) -> BuildReport:
    now = now or dt.datetime.now(dt.timezone.utc)
    batch = batch or now.strftime("%Y-%m")
    if not BATCH_NAME.match(batch):
        raise BatchError(bilingual(f"批次名称“{batch}”不可用：请用 2026-12 这样的名称。",
                                   f"the batch name {batch!r} is not a name like 2026-12."))
    if out.exists():
        raise BatchError(bilingual(f"{out} 已经存在：请给这个批次换一个名字。",
                                   f"{out} exists already: choose a new name for the batch."))
    key = load_private(private_key)
    sheet = read_sheet(src)
    warnings = check_source(src, sheet)
    entries, files, counts = [], {}, {"from_book": 0, "drawn": 0}
    for row in sheet.rows:
        entry, row_files = _entry(src, row, counts)
        entries.append(entry)
        files.update(row_files)
    manifest = manifest_bytes(batch, now.strftime("%Y-%m-%dT%H:%M:%SZ"), entries)
    _write(out, manifest, key.sign(manifest), files)
    actions = [e["action"] for e in entries]
    return BuildReport(batch, out, sheet.description, actions.count("add"),
                       actions.count("update"), actions.count("withdraw"), counts["from_book"],
                       counts["drawn"], warnings)


def _entry(src: Path, row: Row, counts: dict) -> tuple[dict, dict[str, bytes | Path]]:
    v = row.values
    if v["action"] == "withdraw":
        return {"id": v["id"], "action": "withdraw"}, {}
    book = src / v["file"]
    book_format = book.suffix.lower().lstrip(".")
    cover = _cover(src, v, book, book_format, counts, row.number)
    book_path, cover_path = f"books/{v['id']}.{book_format}", f"covers/{v['id']}.jpg"
    entry = {"id": v["id"], "action": v["action"], "isbn": v["isbn"], "title": v["title"],
             "author": v["author"], "category": v["category"], "summary": v.get("summary", ""),
             "valid_from": v["valid_from"], "valid_until": v["valid_until"],
             "cover": {"path": cover_path, "size": len(cover),
                       "sha256": hashlib.sha256(cover).hexdigest()},
             "file": {"path": book_path, "size": book.stat().st_size,
                      "sha256": _sha256(book), "format": book_format}}
    if v.get("publisher"):  # optional: left out, the manifest is as before the column
        entry["publisher"] = v["publisher"]
    return entry, {cover_path: cover, book_path: book}


def _cover(src: Path, v: dict, book: Path, book_format: str, counts: dict, number: int) -> bytes:
    image: Image.Image | None = None
    try:
        if v.get("cover"):
            image = Image.open(src / v["cover"])
        elif book_format == "epub":
            inside = epub_cover(book)
            if inside is not None:
                image = Image.open(io.BytesIO(inside))
                counts["from_book"] += 1
        if image is not None:
            image.load()
    except (UnidentifiedImageError, OSError) as e:
        raise BatchError(bilingual(f"第 {number} 行的封面图片无法读取（{e}）："
                                   "请换一张 JPEG 或 PNG 图片。",
                                   f"row {number}, cover: the image cannot be read ({e}); use "
                                   "another JPEG or PNG file.")) from None
    if image is None:
        image = draw_cover(v["title"], v["author"], v["category"])
        counts["drawn"] += 1
    image = image.convert("RGB")
    image.thumbnail(COVER_SIZE)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _write(out: Path, manifest: bytes, signature: bytes, files: dict[str, bytes | Path]) -> None:
    """Into a temporary name beside `out`, renamed when whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        folder = work / "batch"
        for name in ("covers", "books"):
            (folder / name).mkdir(parents=True)
        (folder / MANIFEST).write_bytes(manifest)
        (folder / SIGNATURE).write_bytes(signature)
        for relative, content in files.items():
            if isinstance(content, Path):
                shutil.copyfile(content, folder / relative)
            else:
                (folder / relative).write_bytes(content)
        if out.suffix.lower() == ".tar":
            with tarfile.open(work / "batch.tar", "w", format=tarfile.PAX_FORMAT) as tar:
                for name in (MANIFEST, SIGNATURE, "covers", "books"):
                    tar.add(folder / name, arcname=name, filter=_plain)
            os.replace(work / "batch.tar", out)
        else:
            os.replace(folder, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _plain(member: tarfile.TarInfo) -> tarfile.TarInfo:
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    member.mode = 0o755 if member.isdir() else 0o644
    return member
