"""Certificates the back office issues at once (residenza, stato di famiglia), as A4 PDFs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF

from backoffice.identity import LINK_CODE_ALPHABET

ROME = ZoneInfo("Europe/Rome")
VERIFICATION_CODE_LENGTH = 10

# The pratica types answered with a certificate at once, and the title each one prints.
CERTIFICATE_TITLES: dict[str, str] = {
    "certificato_residenza": "Certificato di residenza",
    "stato_famiglia": "Certificato di stato di famiglia",
}

# The PDF core fonts speak Latin-1: typographic characters outside it are written plainly.
_PLAIN = str.maketrans(
    {"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "€": "EUR"}
)


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def new_verification_code() -> str:
    """A random code a reader types on the verification page (no 0/O/1/I)."""
    return "".join(
        secrets.choice(LINK_CODE_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH)
    )


def certificate_filename(practice_type: str, protocol: str) -> str:
    """certificato-residenza-2026-000124.pdf, certificato-stato-famiglia-2026-000125.pdf."""
    stem = practice_type.replace("_", "-")
    if not stem.startswith("certificato-"):
        stem = f"certificato-{stem.removeprefix('certificato-')}"
    return f"{stem}-{protocol.replace('/', '-')}.pdf"


@dataclass(frozen=True, slots=True)
class CertificateContent:
    """Everything a certificate prints."""

    comune: str
    practice_type: str
    given_name: str
    family_name: str
    fiscal_code: str
    address: str
    use: str
    issued_at: datetime
    protocol: str
    verification_code: str
    verify_url: str
    household: tuple[str, ...] = ()  # names, for stato di famiglia


def render_certificate(content: CertificateContent) -> bytes:
    """Lay the certificate out on one A4 page and return the PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(CERTIFICATE_TITLES[content.practice_type]))
    pdf.set_author(_latin1(f"Comune di {content.comune}"))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()

    def line(text: str, size: int = 11, style: str = "", height: float = 7) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    line(f"Comune di {content.comune}", 18, "B", 9)
    line("Città metropolitana di Roma Capitale", 10)
    line("Servizi demografici - Ufficio Anagrafe", 10)
    pdf.ln(12)
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0,
        10,
        _latin1(CERTIFICATE_TITLES[content.practice_type].upper()),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(8)
    line("L'Ufficiale d'Anagrafe, visti gli atti d'ufficio, certifica che")
    pdf.ln(2)
    line(f"{content.given_name} {content.family_name}".upper(), 13, "B")
    line(f"codice fiscale {content.fiscal_code}")
    pdf.ln(2)
    line(f"risulta residente nel Comune di {content.comune} in {content.address}.")
    if content.practice_type == "stato_famiglia":
        pdf.ln(2)
        line("e che la famiglia anagrafica, alla data odierna, è così composta:")
        for member in content.household:
            line(f"  - {member}")
    pdf.ln(4)
    line(f"Uso: {content.use}.")
    pdf.ln(10)
    local = content.issued_at.astimezone(ROME)
    line(f"{content.comune}, {local:%d/%m/%Y}")
    line(f"Protocollo n. {content.protocol}")
    line(f"Codice di verifica: {content.verification_code}", style="B")
    line(f"Verifica l'autenticità su {content.verify_url}", 9)
    pdf.ln(14)
    line(
        f"Documento rilasciato da un servizio automatico del Comune di {content.comune} "
        "(Sportello Digitale), senza intervento di un operatore. Firma autografa "
        "sostituita a mezzo stampa ai sensi dell'art. 3, comma 2, del D.Lgs. 39/1993.",
        8,
        "I",
        5,
    )
    return bytes(pdf.output())
