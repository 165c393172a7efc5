"""E-book search latency per keystroke, as a patron types on the on-screen keyboard.

Builds catalogues of 2,000, 20,000 and 200,000 titles (Chinese titles and authors from the
sample's word lists, so pinyin matters), then types each query one letter at a time and times
every `Catalogue.search` call, as the search screen makes one per key. Target on this machine:
under 20 ms per keystroke at 20,000 titles.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.results import write_section  # noqa: E402
from content import sample_words as words  # noqa: E402
from content.catalogue import Catalogue, write_catalogue  # noqa: E402
from content.title import Title  # noqa: E402

TARGET_MS = 20.0
TODAY = "2026-11-25"
QUERIES = ("hlm", "honglou", "红楼梦", "曹雪芹", "cxq", "9787", "xiyouji", "小熊的", "jkys",
           "zhonglaonianren")


def titles(count: int, seed: int = 5):
    rng = random.Random(seed)
    classics = [(t, a) for t, a, _s in words.CLASSICS]
    for n in range(count):
        if n < len(classics):
            name, author = classics[n]
            category = "classics"
        else:
            category = rng.choice([k for k in words.PATTERNS if k != "classics"])
            _share, patterns, slots = words.PATTERNS[category]
            name = rng.choice(patterns).format(**{s: rng.choice(c) for s, c in slots.items()})
            author = rng.choice(words.SURNAMES) + rng.choice(words.GIVEN)
        isbn = "9787" + "".join(str(rng.randrange(10)) for _ in range(9))
        yield Title(f"{n + 1:06d}", isbn, name, author, category, "", f"covers/{n}.jpg",
                    f"books/{n}.epub", 1000, "0" * 64, "epub", "2020-01-01", "2030-12-31",
                    "2026-11")


def keystroke_times(catalogue: Catalogue) -> list[float]:
    out = []
    for query in QUERIES:
        for end in range(1, len(query) + 1):
            started = time.perf_counter()
            catalogue.search(query[:end], TODAY)
            out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,20000,200000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for size in map(int, args.sizes.split(",")):
        folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
        started = time.perf_counter()
        write_catalogue(folder / "catalogue.sqlite3", titles(size))
        built = time.perf_counter() - started
        catalogue = Catalogue.open(folder)
        keystroke_times(catalogue)  # warm the page cache, as a running kiosk has it
        times = [t for _ in range(args.rounds) for t in keystroke_times(catalogue)]
        times.sort()
        median, p95 = statistics.median(times), times[int(len(times) * 0.95)]
        verdict = ("meets" if p95 < TARGET_MS else "MISSES") if size == 20000 else ""
        rows.append(f"| {size:,} | {len(times)} | {median:.2f} | {p95:.2f} | {times[-1]:.2f} | "
                    f"{built:.1f} s | {verdict} |")
        print(rows[-1], flush=True)
        catalogue.close()
    write_section("E-book search (bench/search.py)", [
        f"Machine: {platform.machine()}, Python {platform.python_version()}. Each query typed a "
        f"letter at a time ({', '.join(QUERIES)}), one search per key, {args.rounds} rounds "
        "after a warm-up. Target: under 20 ms per keystroke at 20,000 titles (p95 checked).",
        "",
        "| titles | keystrokes | median ms | p95 ms | max ms | catalogue written in | target |",
        "|---|---|---|---|---|---|---|",
        *rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
