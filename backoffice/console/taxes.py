"""What the office sees of the citizens' taxes: payments received, one citizen's file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backoffice.console.domain import Clerk
from backoffice.console.repository import StaffRepository
from backoffice.db import models
from backoffice.db.uow import UnitOfWork

# --- tributi --------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    description: str
    year: int
    instalment: int
    amount_cents: int
    due_date: date
    status: str
    notice_number: str | None


@dataclass(frozen=True)
class Paid:
    receipt_id: int
    receipt_number: str
    description: str
    notice_number: str
    amount_cents: int
    paid_at: datetime
    channel: str


@dataclass(frozen=True)
class TaxFile:
    """What the office sees of one citizen's taxes; None as citizen when nobody has that code."""

    citizen: str | None
    positions: list[Position]
    notices: list[tuple[str, str, int, date, datetime]]  # number, description, cents, due, issued
    payments: list[Paid]


def _paid(rows: list[tuple[models.PaymentReceipt, models.PaymentNotice, models.TaxPosition]]) -> list[Paid]:
    return [
        Paid(r.id, r.receipt_number, p.description, n.notice_number, r.amount_cents, r.paid_at, r.channel)
        for r, n, p in rows
    ]


async def recent_payments(uow: UnitOfWork, limit: int = 50) -> list[Paid]:
    async with uow:
        return _paid(await StaffRepository(uow.session).receipts(limit))


async def tax_file(uow: UnitOfWork, clerk: Clerk, fiscal_code: str, now: datetime) -> TaxFile:
    """One citizen's positions, notices and payments; the look-up goes in the audit log
    (by the citizen's number in the register, never the codice fiscale)."""
    async with uow:
        staff = StaffRepository(uow.session)
        citizen = await staff.citizen_by_fiscal_code(fiscal_code)
        if citizen is None:
            return TaxFile(None, [], [], [])
        found = TaxFile(
            f"{citizen.given_name} {citizen.family_name}",
            [
                Position(p.description, p.year, p.instalment, p.amount_cents, p.due_date, p.status, p.notice_number)
                for p in await staff.tax_positions(citizen.id)
            ],
            [
                (n.notice_number, p.description, n.amount_cents, n.due_date, n.created_at)
                for n, p in await staff.notices_of(citizen.id)
            ],
            _paid(await staff.receipts(200, citizen.id)),
        )
        await staff.audit(await staff.user(clerk.id), clerk.username, "tributi_consultati", f"cittadino {citizen.id}", "", now)
        await uow.commit()
        return found
