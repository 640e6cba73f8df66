"""Deterministic, valid, minimal PNG and PDF files for the Canva simulator (standard library only).

PNG: signature, IHDR (8-bit RGB), one IDAT (zlib, filter 0 per row), IEND (ISO/IEC 15948); an optional private
ancillary chunk ``ppAd`` pads a file to test size caps (decoders skip unknown ancillary chunks). PDF 1.4: catalog,
page tree, one page per design page with a filled rectangle, a cross-reference table with exact offsets and a
trailer (ISO 32000-1 §7.5); padding goes in comment lines, which readers ignore.
"""

import hashlib
import struct
import zlib


def colour(seed: str) -> tuple[int, int, int]:
    """A stable RGB colour for ``seed`` (a design id and page)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return digest[0], digest[1], digest[2]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def solid_png(width: int, height: int, rgb: tuple[int, int, int], *, padding: int = 0) -> bytes:
    """A ``width`` x ``height`` PNG of one colour; ``padding`` extra bytes in a private ancillary chunk."""
    if not (0 < width <= 10_000 and 0 < height <= 10_000):
        raise ValueError("width and height must be 1-10000")
    row = b"\x00" + bytes(rgb) * width
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", ihdr), _chunk(b"IDAT", zlib.compress(row * height, 9))]
    if padding > 0:
        parts.append(_chunk(b"ppAd", b"\x00" * padding))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


def solid_pdf(pages: list[tuple[int, int, tuple[int, int, int]]], *, padding: int = 0) -> bytes:
    """A PDF with one page per ``(width_pt, height_pt, rgb)``, each filled with its colour."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    count = len(pages)
    # Objects: 1 catalog, 2 page tree, then per page: the page and its content stream.
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    for i, (width, height, rgb) in enumerate(pages):
        red, green, blue = (f"{c / 255:.3f}" for c in rgb)
        stream = f"{red} {green} {blue} rg 0 0 {width} {height} re f\n".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents {4 + 2 * i} 0 R "
            f"/Resources << >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    while padding > 0:
        line = min(padding, 64)
        out += b"%" + b"p" * line + b"\n"
        padding -= line
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
