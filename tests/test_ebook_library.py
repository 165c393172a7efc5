"""The library the e-book screens read: shelves, a batch applied while the kiosk runs, and a
damaged catalogue that leaves the shelves empty instead of stopping the app."""

import datetime as dt
import os

import pytest

from content.store import CatalogueStore
from kiosk.ebooks.library import EbookLibrary
from tests.content_batches import Batches

TODAY = "2026-12-05"


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    return Batches(tmp_path_factory.mktemp("batches"))


def test_shelves_follow_the_catalogue_staff_apply_while_it_runs(tmp_path, batches):
    store = CatalogueStore(tmp_path / "catalogue")
    library = EbookLibrary(store.root, view_counts={"000002": 3, "000001": 5},
                           link=lambda i: f"http://kiosk/d/{i}", today=lambda: TODAY)
    assert not library.available and library.shelf("all") == []  # nothing applied yet
    store.apply(batches.first, batches.public)
    assert library.available and library.version.endswith("2026-11-1")
    assert [t.id for t in library.shelf("popular")] == ["000001", "000002"]
    assert [t.title for t in library.search("hlm")][:1] == ["红楼梦"]
    assert library.path("covers/000001.jpg").endswith("2026-11-1/covers/000001.jpg")
    store.apply(batches.second, batches.public)
    assert {t.added for t in library.shelf("new")} == {"2026-12"}
    assert library.title("000021") is None  # withdrawn by the December batch
    for _ in range(3):  # 6 views now against 000001's 5
        library.viewed("000002")
    assert [t.id for t in library.shelf("popular")][:1] == ["000002"]
    assert library.link("000001") == "http://kiosk/d/000001"


def test_a_damaged_catalogue_empties_the_shelves_and_is_logged(tmp_path, batches, caplog):
    store = CatalogueStore(tmp_path / "catalogue")
    store.apply(batches.first, batches.public)
    (store.current_dir() / "catalogue.sqlite3").write_bytes(b"\0" * 4096)
    library = EbookLibrary(store.root, today=lambda: dt.date.today().isoformat())
    assert not library.available and library.shelf("all") == [] and library.search("a") == []
    assert "cannot open the e-book catalogue" in caplog.text


def test_a_keystroke_does_not_resolve_the_current_link_again(tmp_path, batches, monkeypatch):
    """Each search and count asks whether staff switched versions: one stat of `current`,
    not a walk of its path (os.path.realpath: a lstat per folder, 30 µs a call), until the
    link leads somewhere else."""
    store = CatalogueStore(tmp_path / "catalogue")
    store.apply(batches.first, batches.public)
    library = EbookLibrary(store.root, today=lambda: TODAY)
    assert library.available
    resolved = []
    real = os.path.realpath

    def realpath(path, **kwargs):
        if os.fspath(path).endswith("current"):
            resolved.append(path)
        return real(path, **kwargs)
    monkeypatch.setattr(os.path, "realpath", realpath)
    for query in ("h", "hl", "hlm"):
        library.search(query)
        library.found(query, 1000)
    assert resolved == []
    store.apply(batches.second, batches.public)
    resolved.clear()  # the store resolves it too
    assert {t.added for t in library.shelf("new")} == {"2026-12"}
    assert [t.added for t in library.search("hlm")] and len(resolved) == 1
