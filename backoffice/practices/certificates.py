"""Certificates the back office issues at once (residenza, stato di famiglia), as A4 PDFs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from backoffice.identity.domain import LINK_CODE_ALPHABET
from backoffice.pdf import Page
from sportello.clock import ROME
from sportello.formatting import numeric_date

VERIFICATION_CODE_LENGTH = 10

# The pratica types answered with a certificate at once, and the title each one prints.
CERTIFICATE_TITLES: dict[str, str] = {
    "certificato_residenza": "Certificato di residenza",
    "stato_famiglia": "Certificato di stato di famiglia",
}


def new_verification_code() -> str:
    """A random code a reader types on the verification page (no 0/O/1/I)."""
    return "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH))


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
    page = Page(CERTIFICATE_TITLES[content.practice_type], f"Comune di {content.comune}")
    line = page.line
    line(f"Comune di {content.comune}", 18, "B", 9)
    line("Città metropolitana di Roma Capitale", 10)
    line("Servizi demografici - Ufficio Anagrafe", 10)
    page.space(12)
    page.centered(CERTIFICATE_TITLES[content.practice_type].upper(), 15, "B")
    page.space(8)
    line("L'Ufficiale d'Anagrafe, visti gli atti d'ufficio, certifica che")
    page.space(2)
    line(f"{content.given_name} {content.family_name}".upper(), 13, "B")
    line(f"codice fiscale {content.fiscal_code}")
    page.space(2)
    line(f"risulta residente nel Comune di {content.comune} in {content.address}.")
    if content.practice_type == "stato_famiglia":
        page.space(2)
        line("e che la famiglia anagrafica, alla data odierna, è così composta:")
        for member in content.household:
            line(f"  - {member}")
    page.space(4)
    line(f"Uso: {content.use}.")
    page.space(10)
    local = content.issued_at.astimezone(ROME)
    line(f"{content.comune}, {numeric_date(local)}")
    line(f"Protocollo n. {content.protocol}")
    line(f"Codice di verifica: {content.verification_code}", style="B")
    line(f"Verifica l'autenticità su {content.verify_url}", 9)
    page.space(14)
    line(
        f"Documento rilasciato da un servizio automatico del Comune di {content.comune} "
        "(Sportello Digitale), senza intervento di un operatore. Firma autografa "
        "sostituita a mezzo stampa ai sensi dell'art. 3, comma 2, del D.Lgs. 39/1993.",
        8,
        "I",
        5,
    )
    return page.output()
