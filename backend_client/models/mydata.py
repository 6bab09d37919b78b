"""Typed results of «I miei dati»: everything the comune holds on a citizen, and its erasure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from backend_client.models.appointments import AppointmentStatus
from backend_client.models.base import Result
from backend_client.models.practices import HistoryEntry, PracticeTypeRef, Upload
from backend_client.models.taxes import TaxStatus


class MyProfile(Result):
    """The citizen as the comune knows them; the codice fiscale is masked."""

    given_name: str
    family_name: str
    fiscal_code_masked: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    tax_reminders: bool = True


class MyLink(Result):
    """A chat account linked to the citizen, and when."""

    channel_user: str
    linked_at: datetime
    this_chat: bool


class IssuedDocument(Result):
    """A document the comune issued for a pratica, by name and verification code."""

    filename: str
    verification_code: str


class MyPractice(Result):
    """A pratica with its whole history and what the citizen answered in its form."""

    protocol_number: str
    practice_type: PracticeTypeRef
    status: str
    status_label: str
    created_at: datetime
    updated_at: datetime
    history: tuple[HistoryEntry, ...] = ()
    attachments: tuple[Upload, ...] = ()
    document: IssuedDocument | None = None
    answers: dict[str, Any] = Field(default_factory=dict)


class MyNotice(Result):
    """The pagoPA notice issued for a position."""

    notice_number: str
    amount_cents: int
    due_date: date
    issued_at: datetime


class MyReceipt(Result):
    """The receipt of a paid position."""

    receipt_number: str
    amount_cents: int
    paid_at: datetime


class MyTaxPosition(Result):
    """One instalment, with its notice and receipt when there are."""

    id: int
    tax_type: str
    description: str
    year: int
    instalment: int
    amount_cents: int
    due_date: date
    status: TaxStatus
    notice: MyNotice | None = None
    receipt: MyReceipt | None = None


class MyAppointment(Result):
    """A booking, live or past."""

    code: str
    service_code: str
    service_name: str
    location: str
    starts_at: datetime
    status: AppointmentStatus
    booked_at: datetime


class MyUpload(Result):
    """A file a chat sent, and the pratica it is part of (None: part of none)."""

    upload_id: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    protocol_number: str | None = None


class MyNotification(Result):
    """A notice the back office owed or sent to one of the citizen's chats."""

    type: str
    channel_user: str
    status: str
    created_at: datetime
    sent_at: datetime | None = None


class MyData(Result):
    """Everything the back office keeps about a chat's citizen (and the chat itself)."""

    generated_at: datetime
    channel_user: str
    citizen: MyProfile | None
    links: tuple[MyLink, ...] = ()
    practices: tuple[MyPractice, ...] = ()
    tax_positions: tuple[MyTaxPosition, ...] = ()
    appointments: tuple[MyAppointment, ...] = ()
    uploads: tuple[MyUpload, ...] = ()
    notifications: tuple[MyNotification, ...] = ()


class ErasedCounts(Result):
    """How many of each thing an erasure deleted."""

    links: int
    uploads: int
    deliveries: int


class KeptData(Result):
    """What stays with the offices after an erasure, how much, and why (plain Italian)."""

    kind: Literal["profile", "practices", "payments", "appointments"]
    count: int
    reason: str


class DataErasure(Result):
    """What erasing a chat's data did: the chats unlinked, what went, what stays."""

    unlinked: tuple[str, ...]
    deleted: ErasedCounts
    kept: tuple[KeptData, ...] = ()
