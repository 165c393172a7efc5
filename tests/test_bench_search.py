"""bench/search.py's same-job baseline finds what our search matches on (pinyin, initials,
ISBN digits typed with hyphens), by MATCH from three characters and LIKE below; files kept
between runs (--keep) are written once; a run with titles made distinct (--titles distinct)
builds its own files and searches them, and its part of the section is written under the
main run, which keeps it."""

from argparse import Namespace

from bench.catalogue_build import distinct_titles
from bench.results import write_section
from bench.search import (
    DISTINCT_END,
    DISTINCT_START,
    EARLIER,
    SECTION,
    SameJobBaseline,
    built,
    distinct_section,
    main_section,
    measure,
    title_set,
    titles,
)


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


def test_the_distinct_set_is_built_and_searched_in_files_of_its_own(tmp_path):
    made, suffix, _by = title_set("distinct")
    assert made is distinct_titles and title_set("repeating")[:2] == (titles, "")
    rows, fair, summary = measure(300, 1, tmp_path, "distinct")
    kept = sorted(path.name.rsplit("-", 1)[0] for path in tmp_path.iterdir())
    assert kept == [f"{name}{suffix}-300" for name in ("ours", "same-job", "trigram")]
    assert summary["size"] == 300 and len(rows) == 7 + 3 and len(fair) == 7 + 2
    # Every title distinct here, and found: "红楼梦" is typed, the classic is there with a subtitle.
    from content.catalogue import Catalogue
    catalogue = Catalogue.open(next(tmp_path.glob("ours-distinct-300-*")))
    found = [t.title for t in catalogue.search("红楼梦", "2026-11-25")]
    catalogue.close()
    assert len({t.title for t in distinct_titles(300)}) == 300
    assert found and all(t.startswith("红楼梦：") for t in found[:1])
    characters = next(row for row in rows if "| characters, 1-2 |" in row)
    assert characters.split("|")[8].split("/")[0].strip() != "0"  # ours found titles


def test_a_distinct_run_is_written_under_the_main_run_which_keeps_it(tmp_path):
    results = tmp_path / "RESULTS.md"
    earlier = tmp_path / "earlier.txt"
    earlier.write_text("| a row printed as it ran |\nEarlier run.\n\n| old table |\n")
    write_section("Other", ["other text"], results)
    write_section(SECTION, main_section(["Main run.", "", "| main table |"], earlier, results),
                  results)
    part = distinct_section(Namespace(titles="distinct", sizes="300"), ["Distinct run."], 1.0,
                            results)
    write_section(SECTION, part, results)
    text = results.read_text()
    assert text.index("Main run.") < text.index(DISTINCT_START) < text.index("Distinct run.") \
        < text.index(DISTINCT_END) < text.index(EARLIER) < text.index("| old table |")
    assert "300 titles: 300 different" in text and "kept as it was" in text
    # The main run again: the distinct part stays, once; so does a distinct run again.
    write_section(SECTION, main_section(["Main again."], earlier, results), results)
    write_section(SECTION, distinct_section(
        Namespace(titles="distinct", sizes="300"), ["Distinct again."], 1.0, results), results)
    text = results.read_text()
    assert "Main run." not in text and "Distinct run." not in text
    assert text.count(DISTINCT_START) == 1 and text.count("kept as it was") == 1
    assert text.index("Main again.") < text.index("Distinct again.") < text.index(EARLIER)
    assert text.count("other text") == 1
