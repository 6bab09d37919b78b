"""The one PDF helper of the back office: an A4 page in the core fonts, which speak Latin-1.

Certificates and receipts are laid out with it; what is outside Latin-1 is written plainly
(typographic dashes and quotes, the euro sign) or as "?".
"""

from __future__ import annotations

_PLAIN = str.maketrans(
    {"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "€": "EUR", "ª": "a"}
)


def latin1(text: str) -> str:
    """`text` as the PDF core fonts can print it."""
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class Page:
    """One A4 document with 20 mm margins, written line by line."""

    def __init__(self, title: str, author: str) -> None:
        # fpdf2 loads numpy and more when they are installed: only a process that writes a PDF pays.
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(latin1(title))
        self.pdf.set_author(latin1(author))
        self.pdf.set_margins(20, 20, 20)
        self.pdf.add_page()

    def line(self, text: str, size: int = 11, style: str = "", height: float = 7) -> None:
        """A paragraph in Helvetica, wrapped to the page's width."""
        self.pdf.set_font("Helvetica", style, size)
        self.pdf.multi_cell(0, height, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def centered(self, text: str, size: int, style: str = "", height: float = 10) -> None:
        """One line centred on the page (a title)."""
        self.pdf.set_font("Helvetica", style, size)
        self.pdf.cell(0, height, latin1(text), align="C", new_x="LMARGIN", new_y="NEXT")

    def space(self, height: float) -> None:
        self.pdf.ln(height)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
