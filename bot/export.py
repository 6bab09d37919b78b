"""The copy of a citizen's data: what it holds, and the machine-readable JSON of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend_client import MyData
from bot.conversations import ConversationLine
from bot.handoff_store import TicketRecord

CHANNEL_PREFIX = "telegram:"

NOTIFICATION_LABELS = {
    "practice_status_changed": "novità su una pratica",
    "integration_received": "documento ricevuto",
    "payment_received": "pagamento ricevuto",
    "payment_reminder": "promemoria di pagamento",
    "appointment_reminder": "promemoria di appuntamento",
    "appointment_status_changed": "appuntamento allo sportello",
}
STATUS_LABELS = {"pending": "da mandare", "sent": "mandato", "dead": "non recapitabile"}
APPOINTMENT_STATUS = {
    "prenotato": "prenotato",
    "annullato": "annullato",
    "presente": "presente allo sportello",
    "completato": "completato",
    "non_presentato": "non presentato",
}
TAX_STATUS = {"da_pagare": "da pagare", "scaduto": "scaduto", "pagato": "pagato"}
AUTHOR_LABELS = {"cittadino": "Tu", "assistente": "Assistente", "operatore": "Operatore del Comune"}


@dataclass(frozen=True)
class Export:
    """Everything kept about one chat's citizen, from the back office, Rasa and the bot."""

    comune: str
    generated_at: datetime
    user_id: int
    data: MyData
    conversation: list[ConversationLine]
    tickets: list[TicketRecord]
    conversation_days: int
    transcript_days: int


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def export_json(export: Export) -> bytes:
    """The machine-readable copy: the back office's record, the tickets, the conversation."""
    record = export.data.model_dump(mode="json")
    record.pop("generated_at", None)
    body: dict[str, Any] = {
        "comune": f"Comune di {export.comune}",
        "generated_at": export.generated_at.isoformat(),
        "telegram_user_id": export.user_id,
        **record,
        "handoff_tickets": [
            {
                "ticket": ticket.id,
                "topic": ticket.topic,
                "status": ticket.status,
                "staff_name": ticket.staff_name,
                "opened_at": iso(ticket.created_at),
                "closed_at": iso(ticket.closed_at),
                "close_note": ticket.close_note,
                "rating": ticket.rating,
                "transcript": [
                    {"at": iso(at), "author": author, "text": text} for at, author, text in ticket.transcript
                ],
            }
            for ticket in export.tickets
        ],
        "conversation": [
            {"at": line.at.isoformat(), "author": line.author, "text": line.text}
            for line in export.conversation
        ],
        "retention": {
            "conversation_days": export.conversation_days,
            "handoff_transcript_days": export.transcript_days,
        },
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")


# --- the readable PDF ---------------------------------------------------------------------
