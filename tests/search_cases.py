"""The catalogue and queries that pin search results across catalogue formats: run with the
code of a commit on sys.path, `python tests/search_cases.py OUT.json` writes every query's
results (ids, in order) and count; tests/test_catalogue_same_results.py checks that the
current code finds the same. tests/catalogue_golden/results.json came from commit e56332a
(format 2), before issue 20."""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Sequence

sys.path.insert(0, str(Path.cwd()))
from content import sample_words as words  # noqa: E402
from content.title import Title  # noqa: E402

TODAY = "2026-11-25"
EXTRA = [  # edge cases beside the generated titles: traditional, Latin, marks, licences
    ("红楼梦", "曹雪芹"), ("红楼梦魇", "张爱玲"), ("楼兰之谜", "[英] 狄更斯"),
    ("100% 纯_棉 'quoted' \"书\"", "李娜"), ("银行的故事", "长安"), ("Python编程", "Guido"),
    ("中国通史·上", "吕思勉"), ("黃帝內經", "佚名"), ("飞行Python编程", "刘通"),
    ("龍門客棧", "金庸"), ("养生之道", "张三"), ("四季养生", "王琳"), ("三体 III", "刘慈欣"),
    ("《活着》", "余华"), ("重庆森林", "王家卫"), ("长安十二时辰", "马伯庸"), ("红", "红"),
    ("梦", "楼梦"), ("红楼", "红楼梦研究会"),
]
QUERIES = ["hlm", "honglou", "红楼梦", "曹雪芹", "cxq", "9787", "xiyouji", "小熊的", "jkys",
           "zhonglaonianren", "红", "红楼", "楼梦", "梦", "红l", "红lm", "楼m", "养生", "養生",
           "黄帝内经", "內經", "龍門", "lou", "loumeng", "lm", "meng", "yangsheng", "ys",
           "狄更斯", "dgs", "changan", "yinhang", "python", "pythonbc", "bc", "978-7-02",
           "702000220X", "0-306-40615-2", "III", "iii", "三体", "s", "z", "w", "王", "张",
           "的", "故事", "%", "_", "'", '"', "' OR 1=1 --", "*", "NEAR", "a AND b", "·",
           "x" * 70, "楼" * 70, "Py", "py", "ho", "h l m", "红 ", " 楼", "《", "12",
           "刘", "liu", "lcx", "中国", "zg", "t", "e", "ang", "oumeng", "银行d", "长安s",
           "重庆s", "中国t", "红楼m", "养生z", "黄帝n", "黃帝n"]


def generated(count: int, seed: int, first: Sequence[tuple[str, str]] = (),
              expired: Callable[[int], bool] = lambda _n: False) -> Iterator[Title]:
    """`count` titles: `first` (title, author), the sample's classics, then titles and authors
    made from the sample's word lists, so pinyin matters; every `expired(n)` title's licence
    ended the day before TODAY. Also the titles of bench/search.py."""
    rng = random.Random(seed)
    fixed = [*first, *((t, a) for t, a, _s in words.CLASSICS)]
    for n in range(count):
        if n < len(fixed):
            (name, author), category = fixed[n], "classics"
        else:
            category = rng.choice([k for k in words.PATTERNS if k != "classics"])
            _share, patterns, slots = words.PATTERNS[category]
            name = rng.choice(patterns).format(**{s: rng.choice(c) for s, c in slots.items()})
            author = rng.choice(words.SURNAMES) + rng.choice(words.GIVEN)
        isbn = "9787" + "".join(str(rng.randrange(10)) for _ in range(9))
        valid = ("2020-01-01", "2026-11-24") if expired(n) else ("2020-01-01", "2030-12-31")
        yield Title(f"{n + 1:06d}", isbn, name, author, category, "", f"covers/{n}.jpg",
                    f"books/{n}.epub", 1000, "0" * 64, "epub", *valid, "2026-11")


def titles(count: int = 3000, seed: int = 7) -> list[Title]:
    return list(generated(count, seed, EXTRA, expired=lambda n: n % 37 == 5))


def typed(query: str) -> list[str]:
    """The query as typed, one key at a time."""
    return [query[:end] for end in range(1, len(query) + 1)]


def results(catalogue) -> dict[str, dict]:
    return {q: {"ids": [t.id for t in catalogue.search(q, TODAY)],
                "count": catalogue.search_count(q, TODAY)}
            for query in QUERIES for q in typed(query)}


if __name__ == "__main__":
    from content.catalogue import Catalogue, write_catalogue
    folder = Path(tempfile.mkdtemp())
    write_catalogue(folder / "catalogue.sqlite3", titles())
    opened = Catalogue.open(folder)
    Path(sys.argv[1]).write_text(json.dumps(results(opened), ensure_ascii=False, indent=0),
                                 encoding="utf-8")
