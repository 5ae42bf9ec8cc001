"""Draws the home-screen icons (app/web/static/icon-*.png) from the same shapes as app/web/static/icon.svg.

A ring on the brand colour, filling the whole square so that a platform may cut it to a
circle or a rounded square (a "maskable" icon): the ring stays inside the middle 80%.
Pure Python (zlib), so it needs nothing installed: python scripts/icons.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "app" / "web" / "static"  # app.resources.STATIC, unimported
BRAND, WHITE = (0x0B, 0x3D, 0x91), (0xFF, 0xFF, 0xFF)
OUTER, INNER = 0.30, 0.13  # the ring's radii, as fractions of the side (icon.svg: 30 and 13 of 100)
SAMPLES = 4  # per pixel and axis: smooth edges


def pixel(x: int, y: int, size: int) -> tuple[int, int, int]:
    white = 0
    for i in range(SAMPLES):
        for j in range(SAMPLES):
            dx = (x + (i + 0.5) / SAMPLES) / size - 0.5
            dy = (y + (j + 0.5) / SAMPLES) / size - 0.5
            white += INNER ** 2 <= dx * dx + dy * dy <= OUTER ** 2
    share = white / SAMPLES ** 2
    return tuple(round(b + (w - b) * share) for b, w in zip(BRAND, WHITE))  # type: ignore[return-value]


def png(size: int) -> bytes:
    rows = b"".join(b"\x00" + bytes(c for x in range(size) for c in pixel(x, y, size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    for size in (192, 512):
        (STATIC / f"icon-{size}.png").write_bytes(png(size))
