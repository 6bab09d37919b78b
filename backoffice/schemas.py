"""Plain data objects the repositories return and the routes turn into JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backoffice.identity import format_link_code
from backoffice.texts import next_step, status_label

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """One opening window of a counter, in local time (Europe/Rome)."""

    weekday: int  # 0 = Monday … 6 = Sunday, as datetime.weekday()
    opens: str  # "08:30"
    closes: str  # "12:30"

    def to_json(self) -> JSONObject:
        return {"weekday": self.weekday, "opens": self.opens, "closes": self.closes}


@dataclass(frozen=True, slots=True)
class CounterService:
    """A counter citizens can book a slot at."""

    code: str
    name: str
    description: str
    location: str
    slot_minutes: int
    desks: int
    opening_hours: tuple[OpeningHours, ...]
    requirements: tuple[str, ...] = ()  # what to bring
    fee_cents: int | None = None
    fee_note: str | None = None  # the fee's rule in words (a duplicate costs more…)

    def to_json(self) -> JSONObject:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "location": self.location,
            "slot_minutes": self.slot_minutes,
            "desks": self.desks,
            "opening_hours": [hours.to_json() for hours in self.opening_hours],
            "requirements": list(self.requirements),
            "fee_cents": self.fee_cents,
            "fee_note": self.fee_note,
        }


@dataclass(frozen=True, slots=True)
class PracticeField:
    """One field a pratica form asks for."""

    name: str
    label: str
    kind: str
    required: bool
    choices: tuple[str, ...] = ()
    question: str = ""  # what the chat asks a citizen, in plain Italian

    def to_json(self) -> JSONObject:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "required": self.required,
            "choices": list(self.choices),
            "question": self.question,
        }


@dataclass(frozen=True, slots=True)
class PracticeType:
    """A kind of pratica and its form."""

    code: str
    name: str
    description: str
    fields: tuple[PracticeField, ...]

    def to_json(self) -> JSONObject:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "fields": [field.to_json() for field in self.fields],
        }


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One entry of the event feed."""

    id: int
    type: str
    citizen_id: int | None
    payload: JSONObject
    created_at: datetime
    # The channel users to tell ("telegram:123"), resolved when the feed is read.
    recipients: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "type": self.type,
            "citizen_id": self.citizen_id,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
            "recipients": list(self.recipients),
        }


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of the feed and the cursor to ask for the next one."""

    events: tuple[FeedEvent, ...]
    last_id: int

    def to_json(self) -> JSONObject:
        return {
            "events": [event.to_json() for event in self.events],
            "last_id": self.last_id,
        }


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A one-time code linking a chat account to the citizen it was minted for."""

    code: str  # normalised, without the dash
    expires_at: datetime

    def to_json(self) -> JSONObject:
        return {
            "code": format_link_code(self.code),
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class LinkedCitizen:
    """Who a chat account belongs to, as much as the chat may see."""

    citizen_id: int
    given_name: str
    fiscal_code_masked: str
    # Whether the chat reminds the citizen of payments falling due.
    tax_reminders: bool = True

    def to_json(self) -> JSONObject:
        return {
            "given_name": self.given_name,
            "fiscal_code_masked": self.fiscal_code_masked,
            "tax_reminders": self.tax_reminders,
        }


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a channel user sent, by its id."""

    upload_id: str
    filename: str
    content_type: str
    size: int

    def to_json(self) -> JSONObject:
        return {
            "upload_id": self.upload_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of a pratica's lifecycle."""

    status: str
    note: str | None
    at: datetime

    def to_json(self) -> JSONObject:
        return {
            "status": self.status,
            "status_label": status_label(self.status),
            "note": self.note,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class PracticeDocument:
    """A document the comune issued for a pratica; its download URL is minted per answer."""

    document_id: int
    filename: str
    verification_code: str

    def to_json(self, download_url: str) -> JSONObject:
        return {
            "filename": self.filename,
            "download_url": download_url,
            "verification_code": self.verification_code,
        }


@dataclass(frozen=True, slots=True)
class PracticeSummary:
    """A pratica in a list."""

    protocol_number: str
    practice_type: str
    practice_type_name: str
    status: str
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> JSONObject:
        return {
            "protocol_number": self.protocol_number,
            "practice_type": {
                "code": self.practice_type,
                "name": self.practice_type_name,
            },
            "status": self.status,
            "status_label": status_label(self.status),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class PracticeDetail:
    """A pratica with its history, what the office asks for and what it issued."""

    summary: PracticeSummary
    history: tuple[HistoryEntry, ...]
    requested_documents: str | None
    document: PracticeDocument | None
    attachments: tuple[Upload, ...]

    def to_json(self, download_url: str | None = None) -> JSONObject:
        body = self.summary.to_json()
        body.update(
            {
                "next_step": next_step(self.summary.practice_type, self.summary.status),
                "history": [entry.to_json() for entry in self.history],
                "requested_documents": self.requested_documents,
                "document": (
                    self.document.to_json(download_url)
                    if self.document is not None and download_url is not None
                    else None
                ),
                "attachments": [upload.to_json() for upload in self.attachments],
            }
        )
        return body


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A pratica's move from one status to another, as the event feed tells it."""

    detail: PracticeDetail
    from_status: str
    to_status: str
    note: str | None

    def payload(self) -> JSONObject:
        summary = self.detail.summary
        return {
            "protocol_number": summary.protocol_number,
            "practice_type": summary.practice_type,
            "practice_type_name": summary.practice_type_name,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "status_label": status_label(self.to_status),
            "note": self.note,
            "next_step": next_step(summary.practice_type, self.to_status),
        }


@dataclass(frozen=True, slots=True)
class StoredFile:
    """The bytes of a document and how to serve them."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class DocumentVerification:
    """What a verification page shows about a genuine document (no personal data)."""

    practice_type_name: str
    protocol_number: str
    issued_at: datetime
