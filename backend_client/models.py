"""Typed results of the back-office client, validated from the API's JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldKind = Literal[
    "text", "date", "address", "choice", "fiscal_code", "attachment", "location"
]


class _Result(BaseModel):
    # Frozen: results are values. Unknown keys are ignored so the server may add fields.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Health(_Result):
    """Whether the back office and its database answer."""

    status: str
    database: str


class OpeningHours(_Result):
    """One opening window of a counter, in local time (Europe/Rome); weekday 0 is Monday."""

    weekday: int = Field(ge=0, le=6)
    opens: str
    closes: str


class Closure(_Result):
    """A day every counter is closed, e.g. Natale or the patron's day, and why."""

    date: date
    reason: str


class CounterService(_Result):
    """A counter (sportello) citizens can book a slot at."""

    code: str
    name: str
    description: str
    location: str
    slot_minutes: int
    desks: int
    opening_hours: tuple[OpeningHours, ...]
    requirements: tuple[str, ...] = ()  # what to bring, one plain-Italian item each
    fee_cents: int | None = None  # what it costs, if anything
    fee_note: str | None = None  # the fee's rule in words (a duplicate costs more…)
    # Holidays and the comune's closing days of the next two weeks; weekly closures are
    # in opening_hours instead.
    closures: tuple[Closure, ...] = ()


class PracticeField(_Result):
    """One field a pratica form asks for."""

    name: str
    label: str
    kind: FieldKind
    required: bool
    choices: tuple[str, ...] = ()
    question: str = ""  # what to ask the citizen, in plain Italian


class PracticeType(_Result):
    """A kind of pratica and the fields its form asks for."""

    code: str
    name: str
    description: str
    fields: tuple[PracticeField, ...]


class FeedEvent(_Result):
    """One entry of the back office's event feed."""

    id: int
    type: str
    citizen_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    # The chat accounts to tell ("telegram:123"), resolved when the feed was read.
    recipients: tuple[str, ...] = ()


class EventPage(_Result):
    """A page of the event feed and the cursor to persist and pass as `after` next time."""

    events: tuple[FeedEvent, ...]
    last_id: int


class Delivery(_Result):
    """One notice the back office wants told to one chat, held by this bot until `lease_until`."""

    id: int
    lease: str
    lease_until: datetime
    attempts: int
    recipient: str
    event: FeedEvent


class LinkCode(_Result):
    """A one-time code that links a chat account to a citizen, as the citizen reads it."""

    code: str  # K7P2-QX9M
    expires_at: datetime


class LinkedCitizen(_Result):
    """Who a chat account belongs to; the codice fiscale is masked (RSS***50C12***D)."""

    given_name: str
    fiscal_code_masked: str
    # Whether the citizen wants reminders of payments falling due.
    tax_reminders: bool = True


class Upload(_Result):
    """A file the back office accepted; attach it by `upload_id`."""

    upload_id: str
    filename: str
    content_type: str  # the real type, from the bytes
    size: int


class PracticeTypeRef(_Result):
    """Which kind of pratica, by code and name."""

    code: str
    name: str


class HistoryEntry(_Result):
    """One step of a pratica's lifecycle."""

    status: str
    status_label: str
    note: str | None
    at: datetime


class PracticeDocument(_Result):
    """A document the comune issued; `download_url` works without the API key for one hour."""

    filename: str
    download_url: str
    verification_code: str


class PracticeSummary(_Result):
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


TaxStatus = Literal["da_pagare", "scaduto", "pagato"]


class TaxPosition(_Result):
    """One instalment of a tax or other due; `status` is as of today (scaduto once overdue)."""

    id: int
    tax_type: str  # TARI, IMU, CANONE_UNICO, MENSA
    description: str
    year: int
    instalment: int
    amount_cents: int
    due_date: date
    status: TaxStatus
    notice_number: str | None = None  # the codice avviso, once there is one
    payable: bool


class PaymentNotice(_Result):
    """A pagoPA notice: pay it by QR code (`qr_payload`), by notice number or at `checkout_url`."""

    position_id: int
    notice_number: str = Field(pattern=r"^3\d{17}$")
    payee_name: str  # "Comune di Cerveteri"
    payee_fiscal_code: str = Field(pattern=r"^\d{11}$")
    amount_cents: int
    due_date: date
    description: str
    tax_type: str
    status: TaxStatus
    qr_payload: str  # PAGOPA|002|<notice number>|<payee fiscal code>|<cents>
    checkout_url: str

    @property
    def paid(self) -> bool:
        return self.status == "pagato"


AppointmentStatus = Literal["prenotato", "annullato", "presente", "completato", "non_presentato"]
# What the desk sets: checked in, served, never came.
DeskStatus = Literal["presente", "completato", "non_presentato"]


class AppointmentSlot(_Result):
    """A counter slot with free desks; times carry Rome's offset (+01:00 or +02:00)."""

    starts_at: datetime
    ends_at: datetime
    free: int  # desks still free


class AvailableDay(_Result):
    """An open day with at least one free slot."""

    date: date
    free_slots: int


class DaySlots(_Result):
    """One day of a counter: closed (with the reason, e.g. "Natale") or its free slots."""

    date: date
    closed: bool
    reason: str | None = None
    slots: tuple[AppointmentSlot, ...] = ()


class Appointment(_Result):
    """A booking at a counter; show `qr_payload` as a QR code: the desk scans it."""

    code: str  # CE-7K3P, read aloud at the desk
    service_code: str
    service_name: str
    location: str
    starts_at: datetime  # with Rome's offset
    ends_at: datetime
    desk: int | None  # None once cancelled
    status: AppointmentStatus
    requirements: tuple[str, ...] = ()
    fee_cents: int | None = None
    fee_note: str | None = None
    qr_payload: str  # the URL of the desk's verification page


class DeskStatusChange(Appointment):
    """A booking after the desk set its status; `changed` is False if it already had it."""

    changed: bool


# --- i miei dati ----------------------------------------------------------------------


class MyProfile(_Result):
    """The citizen as the comune knows them; the codice fiscale is masked."""

    given_name: str
    family_name: str
    fiscal_code_masked: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    tax_reminders: bool = True


class MyLink(_Result):
    """A chat account linked to the citizen, and when."""

    channel_user: str
    linked_at: datetime
    this_chat: bool


class IssuedDocument(_Result):
    """A document the comune issued for a pratica, by name and verification code."""

    filename: str
    verification_code: str


class MyPractice(_Result):
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


class MyNotice(_Result):
    """The pagoPA notice issued for a position."""

    notice_number: str
    amount_cents: int
    due_date: date
    issued_at: datetime


class MyReceipt(_Result):
    """The receipt of a paid position."""

    receipt_number: str
    amount_cents: int
    paid_at: datetime


class MyTaxPosition(_Result):
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


class MyAppointment(_Result):
    """A booking, live or past."""

    code: str
    service_code: str
    service_name: str
    location: str
    starts_at: datetime
    status: AppointmentStatus
    booked_at: datetime


class MyUpload(_Result):
    """A file a chat sent, and the pratica it is part of (None: part of none)."""

    upload_id: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    protocol_number: str | None = None


class MyNotification(_Result):
    """A notice the back office owed or sent to one of the citizen's chats."""

    type: str
    channel_user: str
    status: str
    created_at: datetime
    sent_at: datetime | None = None


class MyData(_Result):
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


class ErasedCounts(_Result):
    """How many of each thing an erasure deleted."""

    links: int
    uploads: int
    deliveries: int


class KeptData(_Result):
    """What stays with the offices after an erasure, how much, and why (plain Italian)."""

    kind: Literal["profile", "practices", "payments", "appointments"]
    count: int
    reason: str


class DataErasure(_Result):
    """What erasing a chat's data did: the chats unlinked, what went, what stays."""

    unlinked: tuple[str, ...]
    deleted: ErasedCounts
    kept: tuple[KeptData, ...] = ()
