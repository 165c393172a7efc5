"""The sample catalogue for the demo, the tests and the benchmarks: a staff source folder
(metadata.csv and EPUB files, the cover inside each EPUB) that `kiosk content build` turns into
a batch, exactly as a library's own files would be.

Deterministic for a seed and a day: the same arguments give byte-identical files. About 2% of
the titles' licences ended before `batch_day` and 1.5% begin after it, so that hiding titles
outside their licence window shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, replace
from pathlib import Path

from content import sample_words as words
from content.cover_art import draw_cover
from content.epub_write import write_epub

COLUMNS = ("id", "isbn", "title", "author", "category", "summary", "file", "cover",
           "valid_from", "valid_until", "action", "publisher")


@dataclass(frozen=True)
class SampleRow:
    id: str
    isbn: str
    title: str
    author: str
    category: str
    summary: str
    valid_from: str
    valid_until: str
    action: str = "add"
    publisher: str = ""


def make_sample_source(folder: Path, count: int = 2000, seed: int = 1,
                       batch_day: str = "2026-11-01") -> Path:
    """Write a source folder of `count` titles; returns the folder."""
    return _write_source(folder, sample_rows(count, seed, batch_day), seed)


def make_monthly_source(folder: Path, month: str = "2026-12", count: int = 100,
                        first_id: int = 2001, seed: int = 2, base_count: int = 2000,
                        base_seed: int = 1, base_day: str = "2026-11-01",
                        update: tuple[str, ...] | None = None,
                        withdraw: tuple[str, ...] | None = None) -> Path:
    """The next month's source: `count` new titles, plus updates (a longer licence and a
    revised summary) and withdrawals of titles from the sample of `base_count`."""
    base = sample_rows(base_count, base_seed, base_day)
    picker = random.Random(seed)
    if update is None:
        update = tuple(row.id for row in picker.sample(base[20:], 3))
    if withdraw is None:
        withdraw = tuple(row.id for row in picker.sample(base[20:], 5) if row.id not in update)[:2]
    day = f"{month}-01"
    new = sample_rows(count, seed, day, first_id=first_id, classics=False,
                      taken={row.title for row in base})
    by_id = {row.id: row for row in base}
    updated = [replace(by_id[i], action="update", summary=by_id[i].summary + "（修订版）",
                       valid_until=_shift(by_id[i].valid_until, 365)) for i in update]
    withdrawn = [SampleRow(i, "", "", "", "", "", "", "", "withdraw") for i in withdraw]
    return _write_source(folder, [*new, *updated, *withdrawn], seed)


def sample_rows(count: int, seed: int = 1, batch_day: str = "2026-11-01", *,
                first_id: int = 1, classics: bool = True,
                taken: set[str] | None = None) -> list[SampleRow]:
    """The metadata alone: quick, so that a monthly batch can name the sample's titles."""
    rng = random.Random(seed)
    taken = set(taken or ())
    rows: list[SampleRow] = []
    categories = [key for key, (share, *_rest) in words.PATTERNS.items() for _ in range(share)]
    for n in range(count):
        title_id = f"{first_id + n:06d}"
        if classics and n < len(words.CLASSICS):
            name, author, summary = words.CLASSICS[n]
            category = "classics"
        else:
            category = rng.choice(categories) if rng.random() > 0.04 else "classics"
            name = _unique_title(rng, category, taken)
            author = rng.choice(words.FOREIGN) if rng.random() < 0.06 else _person(rng)
            summary = _summary(rng, category)
        taken.add(name)
        valid_from, valid_until = _licence(rng, batch_day, always=classics and n < 20)
        rows.append(SampleRow(title_id, _isbn(rng), name, author, category, summary,
                              valid_from, valid_until, publisher=_publisher(title_id)))
    return rows


def _write_source(folder: Path, rows: list[SampleRow], seed: int) -> Path:
    books = folder / "books"
    books.mkdir(parents=True, exist_ok=True)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        file = ""
        if row.action != "withdraw":
            file = f"books/{row.id}.epub"
            _write_book(folder / file, row, seed)
        writer.writerow((row.id, row.isbn, row.title, row.author, row.category, row.summary,
                         file, "", row.valid_from, row.valid_until, row.action, row.publisher))
    # With a BOM, as Excel and WPS save "CSV UTF-8": staff open and save it there.
    (folder / "metadata.csv").write_bytes(b"\xef\xbb\xbf" + table.getvalue().encode("utf-8"))
    return folder


def _write_book(path: Path, row: SampleRow, seed: int) -> None:
    cover = io.BytesIO()
    draw_cover(row.title, row.author, row.category).save(cover, "JPEG", quality=80)
    rng = random.Random(f"{seed}-{row.id}")
    chapters = [("内容简介", row.summary)]
    for number in ("一", "二"):
        paragraphs = [_summary(rng, row.category) * 3 for _ in range(4)]
        chapters.append((f"第{number}章", "\n\n".join(paragraphs)))
    write_epub(path, isbn=row.isbn, title=row.title, author=row.author, chapters=chapters,
               cover_jpeg=cover.getvalue())


def _unique_title(rng: random.Random, category: str, taken: set[str]) -> str:
    _share, patterns, slots = words.PATTERNS[category]
    for _ in range(20):
        pattern = rng.choice(patterns)
        name = pattern.format(**{slot: rng.choice(choices) for slot, choices in slots.items()})
        if name not in taken:
            return name
    series = 2
    while f"{name}（第{series}辑）" in taken:
        series += 1
    return f"{name}（第{series}辑）"


def _publisher(title_id: str) -> str:
    """One of the sample's publishers, the same for a title whatever else is drawn."""
    return words.PUBLISHERS[int(title_id) % len(words.PUBLISHERS)]


def _person(rng: random.Random) -> str:
    return rng.choice(words.SURNAMES) + rng.choice(words.GIVEN)


def _summary(rng: random.Random, category: str) -> str:
    middle = rng.choice(words.SUMMARY_MIDDLES[category])
    return (f"{rng.choice(words.SUMMARY_OPENINGS)}{middle}，"
            f"{rng.choice(words.SUMMARY_ENDINGS) or '内容丰富。'}")


def _isbn(rng: random.Random) -> str:
    body = "9787" + "".join(str(rng.randrange(10)) for _ in range(8))
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def _licence(rng: random.Random, batch_day: str, always: bool = False) -> tuple[str, str]:
    roll = 1.0 if always else rng.random()
    if roll < 0.02:  # ended before this batch
        until = _shift(batch_day, -rng.randrange(1, 200))
        return _shift(until, -rng.randrange(365, 1100)), until
    if roll < 0.035:  # licensed from a later day
        start = _shift(batch_day, rng.randrange(60, 400))
        return start, _shift(start, rng.randrange(365, 1500))
    return _shift(batch_day, -rng.randrange(0, 700)), _shift(batch_day, rng.randrange(400, 1500))


def _shift(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()
