"""Screenshots of the container's Xvfb: `Xvfb -fbdir DIR` keeps its screen in DIR/Xvfb_screen0
as an XWD image, which this turns into a PNG with Pillow (no xwd or ImageMagick needed)."""

from __future__ import annotations

import struct
from pathlib import Path

from PIL import Image

HEADER_FIELDS = 25  # XWD version 7: 25 big-endian 32-bit fields, then the window name


def xwd_to_png(xwd: Path, png: Path) -> Path:
    data = xwd.read_bytes()
    fields = struct.unpack(">25I", data[:4 * HEADER_FIELDS])
    header_size, version = fields[0], fields[1]
    if version != 7:
        raise ValueError(f"{xwd}: XWD version {version}, expected 7")
    width, height, byte_order = fields[4], fields[5], fields[7]
    bits_per_pixel, bytes_per_line, ncolors = fields[11], fields[12], fields[19]
    if bits_per_pixel != 32:
        raise ValueError(f"{xwd}: {bits_per_pixel} bits per pixel, expected 32 (-screen WxHx24)")
    pixels = header_size + 12 * ncolors  # each colour map entry takes 12 bytes
    raw = "BGRX" if byte_order == 0 else "XRGB"  # LSBFirst stores blue first
    image = Image.frombytes("RGB", (width, height), data[pixels:pixels + bytes_per_line * height],
                            "raw", raw, bytes_per_line)
    png.parent.mkdir(parents=True, exist_ok=True)
    image.save(png)
    return png
