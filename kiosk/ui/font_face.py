"""Takes the Simplified Chinese face out of a font collection (.ttc) into a font file of its own.

Debian's fonts-noto-cjk ships one collection whose first face is Japanese; Kivy always opens the
first face, which would draw some Chinese characters in their Japanese forms. Pure file work:
the tables the chosen face lists are copied, unchanged, behind a new table directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
from pathlib import Path

log = logging.getLogger(__name__)
WANTED_FAMILY = "Noto Sans CJK SC"
MONO_FAMILY = "Noto Sans Mono CJK SC"


class NotACollection(ValueError):
    pass


def faces(data: bytes) -> list[dict[bytes, tuple[int, int, int]]]:
    """Each face's tables: tag -> (checksum, offset, length)."""
    if data[:4] != b"ttcf":
        raise NotACollection("not a font collection")
    (count,) = struct.unpack_from(">I", data, 8)
    offsets = struct.unpack_from(f">{count}I", data, 12)
    result = []
    for start in offsets:
        (table_count,) = struct.unpack_from(">H", data, start + 4)
        tables = {}
        for i in range(table_count):
            tag, checksum, offset, length = struct.unpack_from(">4sIII", data, start + 12 + 16 * i)
            tables[tag] = (checksum, offset, length)
        result.append(tables)
    return result


def face_index(data: bytes, family: str = WANTED_FAMILY) -> int | None:
    """The first face whose name table holds `family` (stored as UTF-16BE), or None."""
    wanted = family.encode("utf-16-be")
    for index, tables in enumerate(faces(data)):
        _, offset, length = tables[b"name"]
        if wanted in data[offset:offset + length]:
            return index
    return None


def extract(data: bytes, index: int) -> bytes:
    """The face `index` of the collection `data` as a stand-alone OpenType font."""
    start = struct.unpack_from(">I", data, 12 + 4 * index)[0]
    version, table_count, search, selector, shift = struct.unpack_from(">IHHHH", data, start)
    tables = sorted(faces(data)[index].items())
    header = struct.pack(">IHHHH", version, table_count, search, selector, shift)
    directory, body = [], []
    position = 12 + 16 * table_count
    for tag, (checksum, offset, length) in tables:
        directory.append(struct.pack(">4sIII", tag, checksum, position, length))
        chunk = data[offset:offset + length]
        chunk += b"\0" * (-len(chunk) % 4)  # tables start on 4-byte boundaries
        body.append(chunk)
        position += len(chunk)
    return header + b"".join(directory) + b"".join(body)


def _version_tag(font: Path) -> str:
    """Letters that change when the font package is updated (letters only: logs mask digit runs)."""
    stat = font.stat()
    digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).digest()
    return "".join(chr(ord("a") + byte % 26) for byte in digest[:10])


def simplified_chinese(font: Path, cache_dir: Path) -> Path:
    """A font file whose first face is Simplified Chinese: `font` itself if it already is."""
    return face_file(font, cache_dir, WANTED_FAMILY, "SC") or font


def monospaced_chinese(font: Path, cache_dir: Path) -> Path | None:
    """The collection's monospaced Simplified Chinese face (Latin half the width of a Chinese
    character, so a receipt's columns line up on screen as on paper), or None without one."""
    if font.suffix.lower() != ".ttc":
        return None
    return face_file(font, cache_dir, MONO_FAMILY, "MonoSC")


def face_file(font: Path, cache_dir: Path, family: str, label: str) -> Path | None:
    """A font file whose first face is `family` of the collection `font` (saved once in
    `cache_dir` as `<stem>-<label>-<version>.otf`): `font` itself if its first face is the
    one, or if it is not a collection; None when the collection has no such face."""
    if font.suffix.lower() != ".ttc":
        return font
    cached = cache_dir / f"{font.stem}-{label}-{_version_tag(font)}.otf"
    if cached.is_file():
        return cached
    data = font.read_bytes()
    try:
        index = face_index(data, family)
    except (NotACollection, struct.error, KeyError) as e:
        log.warning("%s: cannot read the font collection (%s); using it as it is", font, e)
        return font
    if index is None:
        return None
    if index == 0:
        return font
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temp = cached.with_suffix(f".{os.getpid()}.tmp")
        temp.write_bytes(extract(data, index))
        os.replace(temp, cached)
        for stale in cache_dir.glob(f"{font.stem}-{label}-*.otf"):  # an older font package's
            if stale != cached:
                stale.unlink()
    except OSError as e:
        log.warning("%s: cannot save the face %s (%s); some characters will show in their "
                    "Japanese forms", cache_dir, family, e.strerror)
        return font
    log.info("font: face %d (%s) of %s saved as %s", index, family, font, cached)
    return cached
