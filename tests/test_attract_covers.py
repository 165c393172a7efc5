"""Which covers and notices the attract screen shows, from a real catalogue, without Kivy."""

from pathlib import Path

import pytest

from content.store import CatalogueStore
from kiosk.config import AttractNotice
from kiosk.ebooks.library import EbookLibrary
from kiosk.ui.attract_covers import POOL, Cover, CoverPicker, cover_set, grid, notices_on
from tests.content_batches import Batches


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    return Batches(tmp_path_factory.mktemp("batches"), count=30)


def library_at(tmp_path: Path, batches: Batches, *batch: Path, views=None) -> EbookLibrary:
    store = CatalogueStore(tmp_path / "catalogue")
    for b in batch:
        store.apply(b, batches.public)
    return EbookLibrary(tmp_path / "catalogue", view_counts=views, today=lambda: "2026-12-07")


def test_new_titles_in_turn_with_the_most_viewed_then_the_catalogue(tmp_path, batches):
    library = library_at(tmp_path, batches, batches.first, batches.second,
                         views={"000003": 5, "000009": 9, "000031": 1})
    covers = CoverPicker(library).covers()
    assert [t.id for t in library.shelf("new")] == ["000032", "000033", "000034", "000031",
                                                    "000035"]  # December's batch
    assert [(c.title_id, c.badge) for c in covers[:8]] == [
        ("000032", "new"), ("000009", "popular"), ("000033", "new"), ("000003", "popular"),
        ("000034", "new"), ("000031", "popular"), ("000035", "new"), ("000007", "")]
    assert len(covers) == POOL and len({c.title_id for c in covers}) == POOL
    assert covers[-1].badge == ""  # the catalogue's own order fills up
    first = covers[0]
    assert Path(first.path).is_file() and first.path.endswith(".jpg")
    assert first.title and first.author


def test_no_views_means_new_titles_then_the_catalogue_order(tmp_path, batches):
    library = library_at(tmp_path, batches, batches.first)
    covers = CoverPicker(library, pool=40).covers()
    assert {c.badge for c in covers} == {"new"}  # one batch: every title is new
    assert len(covers) == 30


def test_no_catalogue_no_covers(tmp_path):
    assert CoverPicker(EbookLibrary(tmp_path / "none")).covers() == []


def test_views_count_at_once_without_reading_the_catalogue_again(tmp_path, batches):
    library = library_at(tmp_path, batches, batches.first)
    picker = CoverPicker(library)
    before = picker.covers()
    library.viewed("000017")
    after = picker.covers()
    assert ("000017", "popular") in [(c.title_id, c.badge) for c in after]
    assert before != after


def test_sets_go_round():
    covers = [Cover(str(i), "", "", "", "new") for i in range(5)]
    assert [c.title_id for c in cover_set(covers, 2, 0)] == ["0", "1"]
    assert [c.title_id for c in cover_set(covers, 2, 2)] == ["4", "0"]
    assert cover_set(covers, 8, 3) == covers


@pytest.mark.parametrize("width, height, expected", [
    (480, 270, (5, 2, 119)),  # two rows of five, a little smaller than the rows allow
    (640, 700, (4, 3, 205)),  # at most three rows: larger covers
    (300, 100, (0, 0, 0)),  # too short for a cover a finger can find: none
    (30, 300, (0, 0, 0)),  # too narrow
    (90, 300, (1, 2, 120)),  # narrower than two rows' covers: as wide as the strip
])
def test_the_grid_fills_its_room(width, height, expected):
    columns, rows, tall = grid(width, height, least=114, gap=8)
    assert (columns, rows, round(tall)) == expected


def test_notices_show_on_their_days():
    notices = (AttractNotice("闭馆", "Closed", "2026-12-20", "2026-12-25"), AttractNotice("欢迎"))
    assert [n.zh for n in notices_on(notices, "2026-12-07")] == ["欢迎"]
    assert [(n.zh, n.en) for n in notices_on(notices, "2026-12-25")] == [("闭馆", "Closed"),
                                                                         ("欢迎", "")]
