"""QR codes as Kivy textures: drawn module by module, scaled without smoothing, so an ordinary
phone camera reads them off the screen. Main thread only (textures).

Only qrcode's encoder is used (its matrix of modules), loaded with the first code shown. Its
package imports its Pillow drawers on import, "for backwards compatibility", and skips them
when they cannot be imported; a None in sys.modules is Python's way to say a module cannot be
imported, so the kiosk never loads them (Pillow's ImageDraw, ImageFont, FreeType: 1.7 MB).
"""

from __future__ import annotations

import sys

from kivy.graphics.texture import Texture

QUIET_ZONE = 4  # modules of white around the code, as the standard asks
UNUSED_DRAWERS = "qrcode.image.styles.moduledrawers.pil"


def _encoder():
    sys.modules.setdefault(UNUSED_DRAWERS, None)  # before qrcode's first import
    import qrcode
    return qrcode


def qr_texture(payload: str) -> Texture:
    """One texel per module; show it with `mag_filter = 'nearest'` at any whole-number scale."""
    qrcode = _encoder()
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE,
                         box_size=1)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    matrix = code.get_matrix()  # rows of booleans, quiet zone included, top row first
    size = len(matrix)
    pixels = bytearray()
    for row in reversed(matrix):  # textures start at the bottom
        for dark in row:
            pixels += b"\x00\x00\x00\xff" if dark else b"\xff\xff\xff\xff"
    # RGBA keeps every row 4-byte aligned, whatever the code's size.
    texture = Texture.create(size=(size, size), colorfmt="rgba")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    texture.blit_buffer(bytes(pixels), colorfmt="rgba", bufferfmt="ubyte")
    return texture
