"""Draws labels (plain and markup, every size of the type scale and sizes between, outlines,
translucent colours) with Kivy's own SDL2 text provider or with kiosk.ui.shared_face's, and
prints on its last line, as JSON, each label's texture size and a digest of its pixels, and how
many font faces are open (tests/test_shared_face.py compares the two).

    python tests/shared_face_app.py kivy|shared FONT_CACHE_DIR
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import sized_app  # noqa: F401  (puts the project on sys.path and quiets Kivy)

TEXTS = ["借书 Borrow", "中文图书馆借书还书\nLibrary kiosk 0123", "红楼梦 — 曹雪芹",
         "AV Wa To 直骨返", ""]
MARKUP = ["[b]图书馆[/b] Library [size=40]大[/size] [color=ff0000]red[/color] 0123",
          "[i]x[/i] y\n第二行 line [u]under[/u] [s]strike[/s]"]
COLOURS = [(1, 1, 1, 1), (0.2, 0.3, 0.4, 0.7)]


def main() -> None:
    which, cache = sys.argv[1], Path(sys.argv[2])
    from kiosk.ui import shared_face, typescale
    if which == "shared":
        assert shared_face.install()
    from kivy.core.text import Label
    from kivy.core.text.markup import MarkupLabel
    from kivy.core.window import Window  # noqa: F401  (textures need its GL context)

    from kiosk.ui.fonts import use_cjk_font
    use_cjk_font(cache)
    sizes = sorted({*typescale.BASE.values(), 18.5, 27.6, 83})
    drawn = []
    for size in sizes:
        for text in TEXTS:
            for colour in COLOURS:
                for outline in (0, 2):
                    drawn.append(_draw(Label, text=text, font_size=size, color=colour,
                                       outline_width=outline, outline_color=(1, 0, 0, 1),
                                       text_size=(200, None), halign="center"))
        for text in MARKUP:
            drawn.append(_draw(MarkupLabel, text=text, font_size=size, text_size=(300, None)))
    faces = shared_face.faces()
    fonts = [target for fd in os.listdir("/proc/self/fd")
             if (target := _link(fd)).endswith(".otf")]
    print(json.dumps({"labels": drawn, "provider": Label.__name__,
                      "faces": faces.count if faces else None, "open_font_files": len(fonts)}))


def _draw(kind, **options) -> list:
    label = kind(**options)
    label.refresh()
    extents = list(label.get_extents(options["text"].split("\n")[0] or " "))
    return [list(label.texture.size), extents,
            hashlib.sha256(label.texture.pixels).hexdigest()]


def _link(fd: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


if __name__ == "__main__":
    main()
