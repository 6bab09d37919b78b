"""Typed results of the practices area: pratica types and their fields, uploads, pratiche."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from backend_client.models.base import Result

FieldKind = Literal[
    "text", "date", "address", "choice", "fiscal_code", "attachment", "location"
]


class PracticeField(Result):
    """One field a pratica form asks for."""

    name: str
    label: str
    kind: FieldKind
    required: bool
    choices: tuple[str, ...] = ()
    question: str = ""  # what to ask the citizen, in plain Italian


class PracticeType(Result):
    """A kind of pratica and the fields its form asks for."""

    code: str
    name: str
    description: str
    fields: tuple[PracticeField, ...]


class Upload(Result):
    """A file the back office accepted; attach it by `upload_id`."""

    upload_id: str
    filename: str
    content_type: str  # the real type, from the bytes
    size: int


class PracticeTypeRef(Result):
    """Which kind of pratica, by code and name."""

    code: str
    name: str


class HistoryEntry(Result):
    """One step of a pratica's lifecycle."""

    status: str
    status_label: str
    note: str | None
    at: datetime


class PracticeDocument(Result):
    """A document the comune issued; `download_url` works without the API key for one hour."""

    filename: str
    download_url: str
    verification_code: str


class PracticeSummary(Result):
    """A pratica in a list."""

    protocol_number: str  # 2026/000123
    practice_type: PracticeTypeRef
    status: str
    status_label: str  # plain Italian: "in attesa di documenti"
    created_at: datetime
    updated_at: datetime

    @property
    def practice_type_code(self) -> str:
        return self.practice_type.code

    @property
    def practice_type_name(self) -> str:
        return self.practice_type.name


class PracticeDetail(PracticeSummary):
    """A pratica with what happens next, its history, what the office asks for, its document."""

    next_step: str
    history: tuple[HistoryEntry, ...]
    requested_documents: str | None = None
    document: PracticeDocument | None = None
    attachments: tuple[Upload, ...] = ()
