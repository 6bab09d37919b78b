"""Pratiche's plain objects: types and their fields, uploads, a pratica's summary and detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.practices.texts import next_step, status_label
from backoffice.schemas import JSONObject


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
class DocumentVerification:
    """What a verification page shows about a genuine document (no personal data)."""

    practice_type_name: str
    protocol_number: str
    issued_at: datetime
