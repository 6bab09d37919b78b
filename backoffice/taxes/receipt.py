"""The receipt of a payment as an A4 PDF (the one PDF helper lays it out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.pdf import Page
from sportello.clock import ROME
from sportello.formatting import euro, grouped, numeric_date_time


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    """Everything a receipt prints."""

    payee_name: str
    payee_fiscal_code: str
    payer: str
    # Masked as everywhere the chat carries it: the receipt goes to the chat.
    payer_fiscal_code_masked: str
    description: str
    notice_number: str
    amount_cents: int
    paid_at: datetime
    receipt_number: str


def render_receipt(content: ReceiptContent) -> bytes:
    """Lay the receipt out on one A4 page and return the PDF bytes."""
    page = Page("Ricevuta di pagamento pagoPA", content.payee_name)
    line = page.line
    line(content.payee_name, 18, "B", 9)
    line(f"Codice fiscale ente {content.payee_fiscal_code}", 10)
    page.space(10)
    line("RICEVUTA DI PAGAMENTO pagoPA", 15, "B", 10)
    page.space(6)
    paid = content.paid_at.astimezone(ROME)
    for label, value in (
        ("Oggetto", content.description),
        ("Pagatore", f"{content.payer} ({content.payer_fiscal_code_masked})"),
        ("Codice avviso", grouped(content.notice_number)),
        ("Codice IUV", content.notice_number[1:]),
        ("Importo pagato", euro(content.amount_cents)),
        ("Data e ora", numeric_date_time(paid)),
        ("Identificativo riscossione (IUR)", content.receipt_number),
        ("Canale", "pagoPA Checkout"),
    ):
        line(f"{label}: {value}")
    page.space(12)
    line(
        "Ricevuta emessa dal servizio di pagamento simulato di Sportello Digitale: "
        "in esercizio fa fede la ricevuta telematica di pagoPA.",
        8,
        "I",
        5,
    )
    return page.output()
