"""The Simplified Chinese face taken out of Debian's Noto CJK collection, whose first face is
Japanese."""

import subprocess

import pytest

from kiosk.ui import font_face
from kiosk.ui.fonts import find_cjk_font

COLLECTION = find_cjk_font()
needs_collection = pytest.mark.skipif(COLLECTION.suffix != ".ttc", reason="no .ttc here")


def family_of(path, index=0):
    return subprocess.run(["fc-query", "-i", str(index), "-f", "%{family}", str(path)],
                          capture_output=True, text=True, check=True).stdout


@needs_collection
def test_the_collection_starts_with_japanese():
    assert "CJK JP" in family_of(COLLECTION)  # why this module exists


@needs_collection
def test_the_chinese_face_is_saved_once_and_reused(tmp_path):
    saved = font_face.simplified_chinese(COLLECTION, tmp_path)
    assert saved.parent == tmp_path and saved.suffix == ".otf"
    assert family_of(saved) == "Noto Sans CJK SC"
    written = saved.stat().st_mtime_ns
    assert font_face.simplified_chinese(COLLECTION, tmp_path) == saved
    assert saved.stat().st_mtime_ns == written
    assert [p.name for p in tmp_path.iterdir()] == [saved.name]


@needs_collection
def test_the_monospaced_chinese_face_is_saved_beside_the_other(tmp_path):
    sans = font_face.simplified_chinese(COLLECTION, tmp_path)
    mono = font_face.monospaced_chinese(COLLECTION, tmp_path)
    assert family_of(mono) == "Noto Sans Mono CJK SC"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([sans.name, mono.name])
    assert font_face.simplified_chinese(COLLECTION, tmp_path) == sans  # neither removes the other


def test_a_single_font_has_no_monospaced_face_to_take(tmp_path):
    font = tmp_path / "NotoSansCJKsc-Regular.otf"
    font.write_bytes(b"OTTO")
    assert font_face.monospaced_chinese(font, tmp_path / "cache") is None


@needs_collection
def test_a_stale_copy_from_an_older_font_package_is_removed(tmp_path):
    stale = tmp_path / f"{COLLECTION.stem}-SC-aaaaaaaaaa.otf"
    stale.write_bytes(b"old")
    saved = font_face.simplified_chinese(COLLECTION, tmp_path)
    assert not stale.exists() and saved.exists()


def test_a_single_font_is_used_as_it_is(tmp_path):
    font = tmp_path / "NotoSansCJKsc-Regular.otf"
    font.write_bytes(b"OTTO")
    assert font_face.simplified_chinese(font, tmp_path / "cache") == font


def test_a_damaged_collection_falls_back_with_a_warning(tmp_path, caplog):
    font = tmp_path / "broken.ttc"
    font.write_bytes(b"ttcf" + b"\xff" * 20)
    assert font_face.simplified_chinese(font, tmp_path / "cache") == font
    assert "cannot read the font collection" in caplog.text


@needs_collection
def test_an_unwritable_cache_falls_back_with_a_warning(tmp_path, caplog):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    assert font_face.simplified_chinese(COLLECTION, blocker / "fonts") == COLLECTION
    assert "Japanese forms" in caplog.text
