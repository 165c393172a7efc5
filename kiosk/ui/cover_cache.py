"""Small cover textures for the e-book grids, decoded off the main thread and kept in a bounded
LRU, so scrolling through thousands of titles neither stutters nor fills the memory.

A cover file is 360x480 for the title page; a grid cell shows it at about a third of that, so
the JPEG is decoded at reduced scale (Pillow's `draft`, which skips most of the decoding work)
on one worker thread. Textures are made on the main thread, as OpenGL requires.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from PIL import Image

log = logging.getLogger(__name__)

THUMB_SIZE = (180, 240)
KEEP = 120  # textures kept: a few screens of covers, about 20 MB


def decode_thumbnail(path: str,
                     size: tuple[int, int] = THUMB_SIZE) -> tuple[bytes, tuple[int, int]]:
    """RGBA bytes of the image fitted into `size`, bottom row first (as textures start).
    RGBA keeps every row 4-byte aligned whatever the width, as OpenGL expects."""
    with Image.open(path) as image:
        image.draft("RGB", size)
        image.thumbnail(size)
        rgba = image.convert("RGBA")
        return rgba.transpose(Image.Transpose.FLIP_TOP_BOTTOM).tobytes(), rgba.size


class CoverCache:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._textures: OrderedDict[str, Texture] = OrderedDict()
        self._waiting: dict[str, list[Callable[[str, Texture], None]]] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="covers")
        self.failed: set[str] = set()

    def get(self, path: str, ready: Callable[[str, Texture], None]) -> Texture | None:
        """The texture now if it is kept; else None, and `ready(path, texture)` later."""
        texture = self._textures.get(path)
        if texture is not None:
            self._textures.move_to_end(path)
            return texture
        if not path or path in self.failed:
            return None
        callbacks = self._waiting.setdefault(path, [])
        callbacks.append(ready)
        if len(callbacks) == 1:
            self._worker.submit(self._decode, path)
        return None

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _decode(self, path: str) -> None:  # worker thread
        try:
            pixels, size = decode_thumbnail(path)
        except (OSError, ValueError) as e:  # a missing or broken cover: the cell stays blank
            log.warning("cannot read cover %s: %s", path, e)
            Clock.schedule_once(lambda _dt: self._give_up(path), 0)
            return
        Clock.schedule_once(lambda _dt: self._store(path, pixels, size), 0)

    def _store(self, path: str, pixels: bytes, size: tuple[int, int]) -> None:  # main thread
        texture = Texture.create(size=size, colorfmt="rgba")
        texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
        self._textures[path] = texture
        while len(self._textures) > self.keep:
            self._textures.popitem(last=False)
        for ready in self._waiting.pop(path, []):
            ready(path, texture)

    def _give_up(self, path: str) -> None:
        self.failed.add(path)
        self._waiting.pop(path, None)
