"""Tributi rows <-> domain objects: positions, notices, receipts, the reminder choice.

Writes that may race are single conditional statements that say whether they won; what to
do about losing is the service's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.db import models
from backoffice.db.models import TaxStatus
from backoffice.taxes.domain import position_status, usable_notice_number
from backoffice.taxes.schemas import Payee, PaymentNotice, Receipt, TaxPosition


class TaxRepository:
    """Tax positions, their notices and receipts."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def positions(self, citizen_id: int, today: date) -> list[TaxPosition]:
        """A citizen's positions, soonest due first."""
        rows = await self._session.scalars(
            select(models.TaxPosition)
            .where(models.TaxPosition.citizen_id == citizen_id)
            .order_by(models.TaxPosition.due_date, models.TaxPosition.id)
        )
        return [position(row, today) for row in rows]

    async def own_position(self, citizen_id: int, position_id: int) -> models.TaxPosition | None:
        return await self._session.scalar(
            select(models.TaxPosition).where(
                models.TaxPosition.id == position_id,
                models.TaxPosition.citizen_id == citizen_id,
            )
        )

    async def position_row(self, position_id: int) -> models.TaxPosition:
        return await self._session.get_one(models.TaxPosition, position_id)

    async def notice_of(self, position_id: int) -> models.PaymentNotice | None:
        return await self._session.scalar(
            select(models.PaymentNotice).where(models.PaymentNotice.position_id == position_id)
        )

    async def own_notice(self, citizen_id: int, number: str) -> models.PaymentNotice | None:
        return await self._session.scalar(
            select(models.PaymentNotice)
            .join(models.TaxPosition)
            .where(
                models.PaymentNotice.notice_number == number,
                models.TaxPosition.citizen_id == citizen_id,
            )
        )

    async def own_position_id_by_number(self, citizen_id: int, number: str) -> int | None:
        return await self._session.scalar(
            select(models.TaxPosition.id).where(
                models.TaxPosition.notice_number == number,
                models.TaxPosition.citizen_id == citizen_id,
            )
        )

    async def add_notice(
        self,
        position_row: models.TaxPosition,
        number: str,
        payee_fiscal_code: str,
        checkout_token: str,
        checkout_expires_at: datetime,
        now: datetime,
    ) -> models.PaymentNotice | None:
        """Write the position's notice; None when another one got there first (unique
        position) or, rarely, the random number is taken."""
        row = models.PaymentNotice(
            position_id=position_row.id,
            notice_number=number,
            payee_fiscal_code=payee_fiscal_code,
            amount_cents=position_row.amount_cents,
            due_date=position_row.due_date,
            checkout_token=checkout_token,
            checkout_expires_at=checkout_expires_at,
            created_at=now,
        )
        self._session.add(row)
        position_row.notice_number = number
        try:
            await self._session.flush()
        except IntegrityError:
            return None
        return row

    async def replace_checkout(
        self, row: models.PaymentNotice, token: str, expires_at: datetime
    ) -> bool:
        """Give the notice a new checkout token unless another request replaced the old one."""
        replaced = await self._session.execute(
            update(models.PaymentNotice)
            .where(
                models.PaymentNotice.id == row.id,
                models.PaymentNotice.checkout_token == row.checkout_token,
            )
            .values(checkout_token=token, checkout_expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
        return replaced.rowcount == 1  # type: ignore[attr-defined]

    async def reload(self, row: models.PaymentNotice) -> None:
        await self._session.refresh(row)

    async def notice_by_token(self, token: str) -> models.PaymentNotice | None:
        return await self._session.scalar(
            select(models.PaymentNotice).where(models.PaymentNotice.checkout_token == token)
        )

    async def receipt_of(self, notice_id: int) -> Receipt | None:
        row = await self._session.scalar(
            select(models.PaymentReceipt).where(models.PaymentReceipt.notice_id == notice_id)
        )
        return receipt(row) if row is not None else None

    async def mark_paid(self, position_id: int) -> bool:
        """Move the position to pagato; False if it already was (one conditional update)."""
        moved = await self._session.execute(
            update(models.TaxPosition)
            .where(
                models.TaxPosition.id == position_id,
                models.TaxPosition.status != TaxStatus.PAGATO.value,
            )
            .values(status=TaxStatus.PAGATO.value)
            .execution_options(synchronize_session=False)
        )
        return moved.rowcount == 1  # type: ignore[attr-defined]

    async def add_receipt(
        self, notice_id: int, receipt_number: str, amount_cents: int, now: datetime
    ) -> Receipt | None:
        """Write the receipt; None when the notice already has one (paid once, reopened)."""
        row = models.PaymentReceipt(
            notice_id=notice_id,
            receipt_number=receipt_number,
            amount_cents=amount_cents,
            paid_at=now,
            channel="checkout",
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError:
            return None
        return receipt(row)

    async def receipt_parts(
        self, receipt_id: int
    ) -> tuple[models.PaymentReceipt, models.PaymentNotice, models.TaxPosition, models.Citizen] | None:
        """What a receipt's PDF prints: the receipt, its notice, position and payer."""
        row = await self._session.get(models.PaymentReceipt, receipt_id)
        if row is None:
            return None
        notice = await self._session.get_one(models.PaymentNotice, row.notice_id)
        position_row = await self._session.get_one(models.TaxPosition, notice.position_id)
        citizen = await self._session.get_one(models.Citizen, position_row.citizen_id)
        return row, notice, position_row, citizen

    async def set_tax_reminders(self, citizen_id: int, enabled: bool) -> None:
        await self._session.execute(
            update(models.Citizen)
            .where(models.Citizen.id == citizen_id)
            .values(tax_reminders=enabled)
            .execution_options(synchronize_session=False)
        )

    async def due_unreminded(self, today: date, within_days: int) -> list[models.TaxPosition]:
        """Unpaid positions due within the days, never reminded, of linked citizens who want it."""
        linked = exists().where(models.ChannelLink.citizen_id == models.Citizen.id)
        return list(
            await self._session.scalars(
                select(models.TaxPosition)
                .join(models.Citizen)
                .where(
                    models.Citizen.tax_reminders.is_(True),
                    linked,
                    models.TaxPosition.status != TaxStatus.PAGATO.value,
                    models.TaxPosition.reminded_at.is_(None),
                    models.TaxPosition.due_date >= today,
                    models.TaxPosition.due_date <= today + timedelta(days=within_days),
                )
                .order_by(models.TaxPosition.due_date, models.TaxPosition.id)
            )
        )

    async def mark_reminded(self, position_id: int, now: datetime) -> bool:
        """Mark the position reminded; False if another run did (one conditional update)."""
        marked = await self._session.execute(
            update(models.TaxPosition)
            .where(models.TaxPosition.id == position_id, models.TaxPosition.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        return marked.rowcount == 1  # type: ignore[attr-defined]


def position(row: models.TaxPosition, today: date) -> TaxPosition:
    return TaxPosition(
        id=row.id,
        tax_type=row.tax_type,
        description=row.description,
        year=row.year,
        instalment=row.instalment,
        amount_cents=row.amount_cents,
        due_date=row.due_date,
        status=position_status(row.status, row.due_date, today).value,
        notice_number=row.notice_number if usable_notice_number(row.notice_number) else None,
    )


def notice(
    row: models.PaymentNotice, position_row: models.TaxPosition, payee: Payee, today: date
) -> PaymentNotice:
    return PaymentNotice(
        position_id=position_row.id,
        notice_number=row.notice_number,
        payee_name=payee.name,
        payee_fiscal_code=row.payee_fiscal_code,
        amount_cents=row.amount_cents,
        due_date=row.due_date,
        description=position_row.description,
        tax_type=position_row.tax_type,
        status=position_status(position_row.status, row.due_date, today).value,
        checkout_token=row.checkout_token,
    )


def receipt(row: models.PaymentReceipt) -> Receipt:
    return Receipt(
        receipt_id=row.id,
        receipt_number=row.receipt_number,
        amount_cents=row.amount_cents,
        paid_at=row.paid_at,
    )
