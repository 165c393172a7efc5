"""bench/search.py's same-job baseline finds what our search matches on (pinyin, initials,
ISBN digits typed with hyphens), by MATCH from three characters and LIKE below; and files
kept between runs (--keep) are written once."""

from bench.search import SameJobBaseline, built, titles


def test_the_same_job_baseline_finds_pinyin_initials_and_isbns(tmp_path):
    path = tmp_path / "same.sqlite3"
    SameJobBaseline.build(path, 300)
    first = next(iter(titles(1)))
    baseline = SameJobBaseline(path)
    found = {q: [t.id for t in baseline.search(q)]
             for q in ("hongloumeng", "hlm", "hl", first.isbn,
                       f"{first.isbn[:3]}-{first.isbn[3]}-{first.isbn[4:]}", "红楼梦", "红")}
    baseline.db.close()
    red = next(t for t in titles(300) if t.title == "红楼梦")
    assert all(red.id in ids for q, ids in found.items() if q[:1] in "h红")
    assert found[first.isbn][:1] == [first.id] and found[first.isbn] == found[
        f"{first.isbn[:3]}-{first.isbn[3]}-{first.isbn[4:]}"]


def test_kept_files_are_written_once(tmp_path):
    written = []

    def write(path):
        written.append(path)
        path.write_text("x")
        return 1.5

    first = built(tmp_path, "ours", 10, write)
    again = built(tmp_path, "ours", 10, write)
    assert len(written) == 1 and first[2] and not again[2]
    assert again[:2] == (first[0], 1.5) and first[0].read_text() == "x"
