"""The text a PDF of ours shows, read back for the tests (fpdf2's core fonts, Windows-1252)."""

from __future__ import annotations

import re
import zlib

# Up to "endstream", end of line included: a deflated stream may itself end in a CR or LF byte,
# and the decompressor stops by itself at the end of its data.
_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
# A literal string: anything but unescaped parentheses, then Tj; or the strings of a TJ array.
_LITERAL = rb"\((?:\\.|[^\\()])*\)"
_SHOW = re.compile(rb"(" + _LITERAL + rb")\s*Tj|\[((?:" + _LITERAL + rb"|[^\]])*)\]\s*TJ", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    body = literal[1:-1]

    def one(match: re.Match[bytes]) -> bytes:
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8) & 0xFF])
        return _ESCAPES.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, body, flags=re.S)


def pdf_text(pdf: bytes) -> str:
    """Every shown string of every page, one per line."""
    assert pdf.startswith(b"%PDF"), "not a PDF"
    lines = []
    for match in _STREAM.finditer(pdf):
        try:
            content = zlib.decompressobj().decompress(match.group(1))
        except zlib.error:
            content = match.group(1)
        for shown in _SHOW.finditer(content):
            if shown.group(1):
                parts = [shown.group(1)]
            else:
                parts = re.findall(_LITERAL, shown.group(2))
            lines.append(b"".join(_unescape(part) for part in parts).decode("cp1252", "replace"))
    return "\n".join(lines)
