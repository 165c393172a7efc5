"""Writing a catalogue: titles carried from the previous file search exactly as titles
computed afresh, and a build leaves nothing but its file."""

from dataclasses import replace

from content.catalogue import Catalogue, write_catalogue
from tests import search_cases


def test_carried_titles_search_as_titles_computed_afresh(tmp_path):
    every = search_cases.titles(800)
    old, carried, fresh = (tmp_path / name for name in ("old", "carried", "fresh"))
    for folder in (old, carried, fresh):
        folder.mkdir()
    write_catalogue(old / "catalogue.sqlite3", every[::2])
    write_catalogue(carried / "catalogue.sqlite3", every[1::2],
                    carried=[t.id for t in every[::2]], carried_from=old / "catalogue.sqlite3")
    write_catalogue(fresh / "catalogue.sqlite3", every)
    found = []
    for folder in (carried, fresh):
        opened = Catalogue.open(folder)
        try:
            found.append(search_cases.results(opened))
            assert sorted(t.id for t in opened.all_titles()) == sorted(t.id for t in every)
        finally:
            opened.close()
    assert found[0] == found[1]


def test_a_batch_that_withdraws_and_updates_titles_counts_as_a_fresh_build(tmp_path):
    """Counts are carried from the previous file less the titles not carried."""
    every = search_cases.titles(800)
    updated = [replace(t, valid_until="2026-11-30", title=t.title + "新版")
               for t in every[500:550]]
    old, carried, fresh = (tmp_path / name for name in ("old", "carried", "fresh"))
    for folder in (old, carried, fresh):
        folder.mkdir()
    write_catalogue(old / "catalogue.sqlite3", every[:600])  # 550-599 are withdrawn below
    write_catalogue(carried / "catalogue.sqlite3", [*every[600:], *updated],
                    carried=[t.id for t in every[:500]], carried_from=old / "catalogue.sqlite3")
    write_catalogue(fresh / "catalogue.sqlite3", [*every[:500], *updated, *every[600:]])
    found = []
    for folder in (carried, fresh):
        opened = Catalogue.open(folder)
        try:
            found.append(search_cases.results(opened))
            found.append({q: opened.search_count(q, "2026-12-01") for q in ("x", "xin", "新")})
        finally:
            opened.close()
    assert found[0] == found[2] and found[1] == found[3]


def test_a_build_leaves_only_its_file(tmp_path):
    (tmp_path / ".catalogue.sqlite3.staging").write_bytes(b"left by a killed build")
    write_catalogue(tmp_path / "catalogue.sqlite3", search_cases.titles(50))
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.sqlite3"]
