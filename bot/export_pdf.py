"""The copy of a citizen's data to read: a plain A4 PDF in Italian."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from bot.export import (
    APPOINTMENT_STATUS,
    AUTHOR_LABELS,
    CHANNEL_PREFIX,
    NOTIFICATION_LABELS,
    STATUS_LABELS,
    TAX_STATUS,
    Export,
)
from sportello.formatting import euro, long_date, numeric_date_time


def _printable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def pdf_text(text: str) -> str:
    """What the PDF's core fonts can print (Windows-1252: Italian accents, €, quotes and
    dashes): other letters lose their accent, emoji and pictures go, the rest becomes «?»."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if _printable(char):
            out.append(char)
        elif unicodedata.category(char) in ("So", "Sk", "Mn", "Me", "Cf", "Co", "Cs"):
            continue  # emoji, their joiners and variation selectors
        else:
            plain = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if unicodedata.category(c) != "Mn" and _printable(c)
            )
            out.append(plain or "?")
    return re.sub(r" {2,}", " ", "".join(out)).strip()


class _Document:
    """A plain A4 document: headings, lines, small print."""

    def __init__(self, title: str, author: str) -> None:
        # fpdf2 loads numpy and more when they are installed: only a process that writes a PDF pays.
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        # The core fonts' real encoding: € and the typographic quotes print as they are.
        self.pdf.core_fonts_encoding = "windows-1252"
        self.pdf.set_title(pdf_text(title))
        self.pdf.set_author(pdf_text(author))
        self.pdf.set_margins(18, 18, 18)
        self.pdf.set_auto_page_break(True, 18)
        self.pdf.add_page()

    def text(self, text: str, size: int = 10, style: str = "", height: float = 5.5) -> None:
        self.pdf.set_font("Helvetica", style, size)
        self.pdf.multi_cell(0, height, pdf_text(text), new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.pdf.ln(4)
        self.text(text, 13, "B", 8)

    def item(self, text: str) -> None:
        self.text(f"- {text}")

    def none(self, text: str = "Niente.") -> None:
        self.text(text, 10, "I")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _answer(value: Any) -> str:
    if isinstance(value, dict) and {"latitude", "longitude"} <= set(value):
        return f"posizione {value['latitude']}, {value['longitude']}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def export_pdf(export: Export) -> bytes:
    """The copy to read: every section in plain Italian, dates as Rome reads them."""
    data = export.data
    doc = _Document("I tuoi dati", f"Comune di {export.comune}")
    doc.text(f"Comune di {export.comune} - Sportello Digitale", 16, "B", 9)
    doc.text("I tuoi dati: quello che l'assistente conserva su di te", 12, "B", 7)
    doc.text(
        f"Preparato il {numeric_date_time(export.generated_at)}. Il codice fiscale è nascosto in parte, come in chat.",
        9,
    )

    doc.heading("Chi sei")
    if data.citizen is None:
        doc.none("Questa chat non è collegata a un profilo del Comune.")
    else:
        citizen = data.citizen
        doc.item(f"Nome: {citizen.given_name} {citizen.family_name}")
        doc.item(f"Codice fiscale: {citizen.fiscal_code_masked}")
        for label, value in (
            ("Email", citizen.email),
            ("Telefono", citizen.phone),
            ("Indirizzo", citizen.address),
        ):
            if value:
                doc.item(f"{label}: {value}")
        doc.item(f"Promemoria dei pagamenti: {'sì' if citizen.tax_reminders else 'no'}")

    doc.heading("Chat collegate al tuo profilo")
    for link in data.links:
        here = " (questa chat)" if link.this_chat else ""
        doc.item(
            f"Telegram {link.channel_user.removeprefix(CHANNEL_PREFIX)}{here}, dal {numeric_date_time(link.linked_at)}"
        )
    if not data.links:
        doc.none()

    doc.heading("Pratiche")
    for practice in data.practices:
        doc.text(
            f"{practice.protocol_number} - {practice.practice_type.name}: {practice.status_label}", 10, "B"
        )
        doc.item(f"Presentata il {numeric_date_time(practice.created_at)}")
        for step in practice.history:
            note = f" ({step.note})" if step.note else ""
            doc.item(f"{numeric_date_time(step.at)}: {step.status_label}{note}")
        for name, value in practice.answers.items():
            doc.item(f"{name.replace('_', ' ')}: {_answer(value)}")
        for attachment in practice.attachments:
            doc.item(f"Documento mandato: {attachment.filename}")
        if practice.document is not None:
            doc.item(
                f"Documento emesso: {practice.document.filename}, codice di verifica {practice.document.verification_code}"
            )
    if not data.practices:
        doc.none()

    doc.heading("Tributi e pagamenti")
    for position in data.tax_positions:
        doc.item(
            f"{position.description} {position.year}, rata {position.instalment}: {euro(position.amount_cents)}, "
            f"scadenza {long_date(position.due_date)}, {TAX_STATUS.get(position.status, position.status)}"
        )
        if position.notice is not None:
            doc.text(
                f"   avviso pagoPA {position.notice.notice_number} del {numeric_date_time(position.notice.issued_at)}"
            )
        if position.receipt is not None:
            doc.text(
                f"   ricevuta {position.receipt.receipt_number}, pagato il {numeric_date_time(position.receipt.paid_at)}"
            )
    if not data.tax_positions:
        doc.none()

    doc.heading("Appuntamenti allo sportello")
    for appointment in data.appointments:
        doc.item(
            f"{appointment.service_name}, {numeric_date_time(appointment.starts_at)}, codice {appointment.code}: "
            f"{APPOINTMENT_STATUS.get(appointment.status, appointment.status)}"
        )
    if not data.appointments:
        doc.none()

    doc.heading("File mandati in chat")
    for upload in data.uploads:
        where = (
            f"parte della pratica {upload.protocol_number}"
            if upload.protocol_number
            else "non fa parte di una pratica"
        )
        doc.item(f"{upload.filename} ({upload.size} byte), {numeric_date_time(upload.uploaded_at)}: {where}")
    if not data.uploads:
        doc.none()

    doc.heading("Avvisi mandati in chat")
    for notice in data.notifications:
        label = NOTIFICATION_LABELS.get(notice.type, notice.type.replace("_", " "))
        doc.item(
            f"{numeric_date_time(notice.created_at)}: {label}, {STATUS_LABELS.get(notice.status, notice.status)}"
        )
    if not data.notifications:
        doc.none()

    doc.heading("Richieste di parlare con una persona")
    for ticket in export.tickets:
        closed = f", chiusa il {numeric_date_time(ticket.closed_at)}" if ticket.closed_at else ""
        doc.text(
            f"Richiesta #{ticket.id} - {ticket.topic}: aperta il {numeric_date_time(ticket.created_at)}{closed}",
            10,
            "B",
        )
        for at, author, text in ticket.transcript:
            doc.item(f"{numeric_date_time(at)} {AUTHOR_LABELS.get(author, author)}: {text}")
    if not export.tickets:
        doc.none()

    doc.heading("La nostra conversazione")
    doc.text(
        f"L'assistente tiene i messaggi per {export.conversation_days} giorni, poi li cancella da solo.",
        9,
        "I",
    )
    for line in export.conversation:
        doc.item(f"{numeric_date_time(line.at)} {AUTHOR_LABELS.get(line.author, line.author)}: {line.text}")
    if not export.conversation:
        doc.none()

    doc.heading("Cosa resta al Comune")
    doc.text(
        "Le pratiche, i pagamenti e le prenotazioni restano agli uffici anche se cancelli i tuoi dati "
        "dall'assistente: la legge chiede al Comune di conservarli. Per vederli o correggerli scrivi "
        "all'ufficio protocollo (PEC comunecerveteri@pec.it).",
        9,
    )
    return doc.output()
