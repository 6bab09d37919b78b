"""The tests' PDF reader reads every page, whatever byte a deflated stream ends with."""

from __future__ import annotations

import zlib

from tests.pdftext import pdf_text


def _page_ending_in(byte: int) -> tuple[str, bytes]:
    for n in range(10_000):
        text = f"Pratica 2026/{n:06d} " + "Cerveteri " * (n % 97)
        data = zlib.compress(f"BT ({text}) Tj ET".encode())
        if data[-1] == byte:
            return text, data
    raise AssertionError("no such stream")


def _pdf(stream: bytes, end_of_line: bytes) -> bytes:
    head = b"<</Filter /FlateDecode /Length " + str(len(stream)).encode() + b">>"
    return b"%PDF-1.3\n1 0 obj\n" + head + b"\nstream\n" + stream + end_of_line + b"endstream\nendobj\n"


def test_a_stream_that_ends_in_a_carriage_return_is_read() -> None:
    text, data = _page_ending_in(0x0D)
    pdf = _pdf(data, b"\n")
    assert text in pdf_text(pdf)


def test_a_stream_that_ends_in_a_line_feed_is_read() -> None:
    text, data = _page_ending_in(0x0A)
    pdf = _pdf(data, b"\r\n")
    assert text in pdf_text(pdf)
