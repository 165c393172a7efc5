"""The kiosk picker's grouping and what a query chooses (central/picker.py), pure; the page
over HTTP in tests/test_central_picker_browser.py."""

from central import picker
from central.storage import Kiosk


def kiosk(kiosk_id, library, point="借阅台", revoked=None):
    return Kiosk(kiosk_id, library, point, "2026-01-01T00:00:00.000Z", revoked)


KIOSKS = [kiosk("b-2", "醴陵市图书馆"), kiosk("b-10", "醴陵市图书馆", "少儿阅览室"),
          kiosk("a-1", "三合村图书室", ""), kiosk("c-1", "醴陵市图书馆", revoked="2026-06-01")]


def test_kiosks_are_grouped_by_library():
    groups = picker.groups(KIOSKS)
    assert [(g.library, [k.id for k in g.kiosks]) for g in groups] == [
        ("三合村图书室", ["a-1"]), ("醴陵市图书馆", ["b-10", "b-2", "c-1"])]
    assert groups[1].value == "library:醴陵市图书馆"


def test_nothing_asked_is_every_kiosk():
    picked = picker.pick(KIOSKS, [])
    assert picked.kiosks == KIOSKS and picked.values == () and picked.library == ""


def test_a_whole_library_a_kiosk_or_several():
    whole = picker.pick(KIOSKS, ["library:醴陵市图书馆"])
    assert [k.id for k in whole.kiosks] == ["b-2", "b-10", "c-1"]  # the revoked one's counts too
    assert whole.library == "醴陵市图书馆" and whole.has("library:醴陵市图书馆")
    assert [k.id for k in picker.pick(KIOSKS, ["a-1"]).kiosks] == ["a-1"]
    several = picker.pick(KIOSKS, ["a-1", "b-2", "a-1"])
    assert [k.id for k in several.kiosks] == ["b-2", "a-1"] and several.values == ("a-1", "b-2")
    assert several.library == ""


def test_what_the_reader_may_not_see_is_left_out():
    picked = picker.pick(KIOSKS, ["a-1", "x-9", "library:株洲市图书馆"])
    assert [k.id for k in picked.kiosks] == ["a-1"]
    assert picked.unknown == ("x-9", "library:株洲市图书馆")
    only_unknown = picker.pick(KIOSKS, ["x-9"])  # never more than was asked for
    assert only_unknown.kiosks == [] and only_unknown.unknown == ("x-9",)


def test_an_older_links_library():
    assert picker.pick(KIOSKS, [], "三合村图书室").library == "三合村图书室"
    ignored = picker.pick(KIOSKS, [], "株洲市图书馆")  # as the titles page always did
    assert ignored.kiosks == KIOSKS and ignored.unknown == ()
