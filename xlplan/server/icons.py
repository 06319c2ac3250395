"""The add-in's icons: plain squares in xlplan green, as PNG bytes made on demand."""

import struct
import zlib

__all__ = ["ICON_SIZES", "png_square"]

ICON_SIZES = (16, 32, 64, 80)
_GREEN = (0x21, 0x73, 0x46)


def _chunk(kind, data):
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_square(size, rgb=_GREEN):
    """A ``size`` x ``size`` opaque PNG of one colour."""
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )
