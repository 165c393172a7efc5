"""One FreeType face per font file, shared by every text size.

Kivy's SDL2 text provider opens a font file anew for each text size (`TTF_OpenFont(path,
size)`), and each open face of the CJK font holds about 2.5 MB (FreeType's and HarfBuzz's copies
of its tables): the kiosk's screens use 15 sizes. `SharedFaceLabel` is Kivy's provider with its
font calls made here instead, through ctypes on the very SDL_ttf library Kivy loaded: each font
file is opened once and set to the size asked before every measure or render
(`TTF_SetFontSize`, SDL_ttf 2.0.18 and later). The calls and their order are Kivy's own
(kivy/core/text/_text_sdl2.pyx), so the pixels are the same.

`install()` makes it Kivy's text provider; it must run before `kivy.uix.label` is imported
(kiosk.ui.boot.prepare calls it). Main thread only, as Kivy's text is; a lock keeps a size set
by one call from being changed under it all the same.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

log = logging.getLogger(__name__)

# SDL_ttf's hinting modes by Kivy's option value (SDL_ttf.h: TTF_HINTING_*).
HINTING = {"normal": 0, "light": 1, "mono": 2, None: 3}
STYLE_UNDERLINE, STYLE_STRIKETHROUGH = 0x04, 0x08
BLENDMODE_NONE = 0
RGBA_MASKS = (0x000000FF, 0x0000FF00, 0x00FF0000, 0xFF000000)  # bytes R, G, B, A in memory
SDL_LIBRARY = re.compile(r"/libSDL2-2[.-][^/]*$")
TTF_LIBRARY = re.compile(r"/libSDL2_ttf-2[.-][^/]*$")


class Color(ctypes.Structure):
    _fields_ = [("r", ctypes.c_uint8), ("g", ctypes.c_uint8), ("b", ctypes.c_uint8),
                ("a", ctypes.c_uint8)]


class Rect(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int),
                ("h", ctypes.c_int)]


class Surface(ctypes.Structure):
    """The head of SDL2's SDL_Surface: the fields read here."""
    _fields_ = [("flags", ctypes.c_uint32), ("format", ctypes.c_void_p), ("w", ctypes.c_int),
                ("h", ctypes.c_int), ("pitch", ctypes.c_int), ("pixels", ctypes.c_void_p)]


SurfacePtr = ctypes.POINTER(Surface)


class SdlText:
    """The SDL and SDL_ttf functions Kivy's text provider calls, from the loaded libraries:
    `TTF_OpenFont` as `.OpenFont`, `SDL_UpperBlit` as `.UpperBlit`."""

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, sdl: ctypes.CDLL, ttf: ctypes.CDLL) -> None:
        font, text, c_int, void = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, None
        int_p = ctypes.POINTER(ctypes.c_int)
        self.sdl, self.ttf = sdl, ttf
        for lib, name, args, result in (
                (ttf, "TTF_WasInit", [], c_int),
                (ttf, "TTF_Init", [], c_int),
                (ttf, "TTF_OpenFont", [text, c_int], font),
                (ttf, "TTF_SetFontSize", [font, c_int], c_int),
                (ttf, "TTF_SetFontStyle", [font, c_int], void),
                (ttf, "TTF_GetFontHinting", [font], c_int),
                (ttf, "TTF_SetFontHinting", [font, c_int], void),
                (ttf, "TTF_GetFontKerning", [font], c_int),
                (ttf, "TTF_SetFontKerning", [font, c_int], void),
                (ttf, "TTF_SetFontOutline", [font, c_int], void),
                (ttf, "TTF_SizeUTF8", [font, text, int_p, int_p], c_int),
                (ttf, "TTF_FontAscent", [font], c_int),
                (ttf, "TTF_FontDescent", [font], c_int),
                (ttf, "TTF_RenderUTF8_Blended", [font, text, Color], SurfacePtr),
                (ttf, "TTF_RenderUTF8_Solid", [font, text, Color], SurfacePtr),
                (sdl, "SDL_GetError", [], text),
                (sdl, "SDL_CreateRGBSurface", [ctypes.c_uint32, c_int, c_int, c_int,
                                               ctypes.c_uint32, ctypes.c_uint32,
                                               ctypes.c_uint32, ctypes.c_uint32], SurfacePtr),
                (sdl, "SDL_FreeSurface", [SurfacePtr], void),
                (sdl, "SDL_SetSurfaceAlphaMod", [SurfacePtr, ctypes.c_uint8], c_int),
                (sdl, "SDL_SetSurfaceBlendMode", [SurfacePtr, c_int], c_int),
                # SDL_BlitSurface is a macro for this.
                (sdl, "SDL_UpperBlit", [SurfacePtr, ctypes.POINTER(Rect), SurfacePtr,
                                        ctypes.POINTER(Rect)], c_int)):
            function = getattr(lib, name)  # AttributeError: an SDL_ttf older than 2.0.18
            function.argtypes, function.restype = args, result
            setattr(self, name.split("_", 1)[1], function)


class Faces:
    """The open faces, one per font file, each set to the size and style of the call using it."""

    def __init__(self, sdl: SdlText) -> None:
        self.sdl = sdl
        self._open: dict[str, int] = {}
        self._size: dict[int, int] = {}  # each face's size now: a change empties its glyph cache
        self.lock = threading.RLock()

    def font(self, options: dict) -> int:
        """The face of `options['font_name_r']` at `options['font_size']`, with the style Kivy
        opens it with (underline, strikethrough). Call with `lock` held."""
        path = options["font_name_r"]
        font = self._open.get(path)
        sdl = self.sdl
        size = int(options["font_size"])
        if font is None:
            if not sdl.WasInit():
                sdl.Init()
            font = sdl.OpenFont(path.encode("utf-8"), size) if "." in path else None
            if not font:
                error = (sdl.GetError() or b"").decode("utf-8", "replace")
                raise OSError(f"cannot open the font {path}: {error}")
            self._open[path] = font
        elif self._size[font] != size and sdl.SetFontSize(font, size) != 0:
            raise OSError(f"cannot set the font {path} to {size} px")
        self._size[font] = size
        style = ((STYLE_UNDERLINE if options["underline"] else 0)
                 | (STYLE_STRIKETHROUGH if options["strikethrough"] else 0))
        sdl.SetFontStyle(font, style)
        return font

    @property
    def count(self) -> int:
        return len(self._open)


_faces: Faces | None = None


def faces() -> Faces | None:
    """The shared faces once `install()` has put them in place, else None."""
    return _faces


def install() -> bool:
    """Make `SharedFaceLabel` Kivy's text provider; False (Kivy's own stays) where the SDL
    libraries cannot be found or SDL_ttf is too old to change a face's size."""
    global _faces
    import kivy.core.text as core_text

    if _faces is not None:
        return True
    if core_text.Label.__name__ != "LabelSDL2":  # another provider (KIVY_TEXT): left alone
        log.info("text: Kivy's %s provider, one face per text size", core_text.Label.__name__)
        return False
    try:
        _faces = Faces(SdlText(*_loaded_libraries()))
    except (OSError, AttributeError, LookupError) as e:
        log.warning("text: one face per text size (%s)", e)
        return False
    core_text.Label = core_text.Text = _shared_label_class(core_text.Label)
    return True


def _loaded_libraries() -> tuple[ctypes.CDLL, ctypes.CDLL]:
    """The libSDL2 and libSDL2_ttf Kivy's text provider is linked with (its wheel's own, or the
    system's), found among this process's mappings."""
    import kivy.core.text._text_sdl2  # noqa: F401  (loads them)

    paths = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()
             if line.count(" ") >= 5 and "/" in line}
    sdl = next((p for p in paths if SDL_LIBRARY.search(p)), None)
    ttf = next((p for p in paths if TTF_LIBRARY.search(p)), None)
    if sdl is None or ttf is None:
        raise LookupError("SDL2 or SDL2_ttf is not among the loaded libraries")
    return ctypes.CDLL(sdl), ctypes.CDLL(ttf)


def _shared_label_class(kivy_label: type) -> type:
    """Kivy's LabelSDL2 with its font calls made on the shared faces."""

    class SharedFaceLabel(kivy_label):  # type: ignore[valid-type, misc]
        def get_extents(self, text: str) -> tuple[int, int]:
            faces, w, h = _faces, ctypes.c_int(), ctypes.c_int()
            assert faces is not None
            outline = self.options["outline_width"]
            with faces.lock:
                font = faces.font(self.options)
                if outline:
                    faces.sdl.SetFontOutline(font, outline)
                faces.sdl.SizeUTF8(font, text.encode("utf-8"), ctypes.byref(w), ctypes.byref(h))
                if outline:
                    faces.sdl.SetFontOutline(font, 0)
            return w.value, h.value

        def get_descent(self) -> int:
            assert _faces is not None
            with _faces.lock:
                return _faces.sdl.FontDescent(_faces.font(self.options))

        def get_ascent(self) -> int:
            assert _faces is not None
            with _faces.lock:
                return _faces.sdl.FontAscent(_faces.font(self.options))

        def _render_begin(self) -> None:
            assert _faces is not None
            self._canvas = _Canvas(_faces, self._size[0], self._size[1])

        def _render_text(self, text: str, x: int, y: int) -> None:
            self._canvas.render(self.options, text, x, y)

        def _render_end(self):
            canvas, self._canvas = self._canvas, None
            return canvas.image_data()

    return SharedFaceLabel


class _Canvas:
    """The RGBA surface a label's lines are drawn on, as Kivy's `_SurfaceContainer`."""

    def __init__(self, faces: Faces, width: int, height: int) -> None:
        self.faces, self.width, self.height = faces, width, height
        self.surface = faces.sdl.CreateRGBSurface(0, width, height, 32, *RGBA_MASKS)
        if not self.surface:
            raise MemoryError(f"no {width}x{height} surface for a label")
        surface = self.surface.contents
        if surface.pixels:  # none for an empty label
            ctypes.memset(surface.pixels, 0, surface.pitch * height)

    def render(self, options: dict, text: str, x: float, y: float) -> None:
        faces = self.faces
        sdl = faces.sdl
        color = [int(c * 255) for c in options["color"][:3]]
        outline = options["outline_width"]
        blended = options["font_blended"]
        draw = sdl.RenderUTF8_Blended if blended else sdl.RenderUTF8_Solid
        data = text.encode("utf-8")
        with faces.lock:
            font = faces.font(options)
            hinting = HINTING.get(options["font_hinting"], HINTING["normal"])
            if sdl.GetFontHinting(font) != hinting:
                sdl.SetFontHinting(font, hinting)
            kerning = 1 if options["font_kerning"] else 0
            if (sdl.GetFontKerning(font) != 0) != bool(kerning):
                sdl.SetFontKerning(font, kerning)
            if outline:
                line_color = [int(c * 255) for c in options["outline_color"][:3]]
                sdl.SetFontOutline(font, outline)
                drawn = draw(font, data, Color(*line_color, 255))
                sdl.SetFontOutline(font, 0)
            else:
                drawn = draw(font, data, Color(*color, 255))
            if not drawn:
                return
            if outline:
                fill = draw(font, data, Color(*color, 255))
                if not fill:
                    sdl.FreeSurface(drawn)
                    return
                inner = Rect(outline, outline, fill.contents.w, fill.contents.h)
                sdl.SetSurfaceBlendMode(fill, 1)  # SDL_BLENDMODE_BLEND
                sdl.UpperBlit(fill, None, drawn, ctypes.byref(inner))
                sdl.FreeSurface(fill)
        where = Rect(int(x), int(y), drawn.contents.w, drawn.contents.h)  # markup: floats
        sdl.SetSurfaceAlphaMod(drawn, int(options["color"][3] * 255))
        sdl.SetSurfaceBlendMode(drawn, BLENDMODE_NONE)
        sdl.UpperBlit(drawn, None, self.surface, ctypes.byref(where))
        sdl.FreeSurface(drawn)

    def image_data(self):
        from kivy.core.image import ImageData

        surface = self.surface.contents
        pixels = (ctypes.string_at(surface.pixels, self.width * self.height * 4)
                  if surface.pixels else b"")
        self.faces.sdl.FreeSurface(self.surface)
        self.surface = None
        return ImageData(self.width, self.height, "rgba", pixels)
