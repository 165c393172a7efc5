"""Grid covers: decoded small, and a broken cover file is a blank cell, never a crash."""

import pytest
from PIL import Image

from kiosk.ui.cover_cache import THUMB_SIZE, decode_thumbnail


def test_a_cover_is_decoded_at_grid_size_bottom_row_first(tmp_path):
    cover = Image.new("RGB", (360, 480), (200, 10, 10))
    cover.paste((10, 10, 200), (0, 0, 360, 10))  # a blue band at the top
    cover.save(tmp_path / "c.jpg", quality=95)
    pixels, size = decode_thumbnail(str(tmp_path / "c.jpg"))
    assert size == THUMB_SIZE and len(pixels) == 180 * 240 * 4
    last_row = pixels[-180 * 4:]  # textures start at the bottom: the top band comes last
    assert last_row[2] > 150 and last_row[0] < 80


def test_a_broken_cover_raises_what_the_cache_catches(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(OSError):  # UnidentifiedImageError is one
        decode_thumbnail(str(tmp_path / "bad.jpg"))
    with pytest.raises(OSError):
        decode_thumbnail(str(tmp_path / "missing.jpg"))
