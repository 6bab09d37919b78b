"""Tables of tributi: tax positions, their pagoPA notices and receipts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, TaxStatus, _in, utcnow
from backoffice.db.models.identity import Citizen


class TaxPosition(Base):
    """One instalment of a local tax a citizen owes (or has paid)."""

    __tablename__ = "tax_positions"
    __table_args__ = (CheckConstraint(f"status IN ({_in(TaxStatus)})", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    tax_type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    instalment: Mapped[int] = mapped_column(Integer)
    # Money is integer cents end to end: floats cannot represent euro cents exactly.
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    notice_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    # When the citizen was reminded of the due date: a reminder goes once.
    reminded_at: Mapped[datetime | None]

    citizen: Mapped[Citizen] = relationship()


class PaymentNotice(Base):
    """The pagoPA notice (avviso) issued for a tax position: what a citizen pays with."""

    __tablename__ = "payment_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One notice per position: the unique constraint settles concurrent requests.
    position_id: Mapped[int] = mapped_column(
        ForeignKey("tax_positions.id", ondelete="CASCADE"), unique=True
    )
    notice_number: Mapped[str] = mapped_column(String(18), unique=True)
    payee_fiscal_code: Mapped[str] = mapped_column(String(11))
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    # The secret part of the checkout URL: whoever holds it may pay, as with pagoPA's.
    checkout_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Until when that URL works (NULL: no longer); asking again for the notice renews it.
    checkout_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    position: Mapped[TaxPosition] = relationship()


class PaymentReceipt(Base):
    """The receipt of a paid notice (ricevuta telematica), one per notice."""

    __tablename__ = "payment_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique, so two payments racing for the same notice leave one receipt.
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("payment_notices.id", ondelete="CASCADE"), unique=True
    )
    # The IUR (identificativo univoco di riscossione) the payment service assigns.
    receipt_number: Mapped[str] = mapped_column(String(35), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16), default="checkout")

    notice: Mapped[PaymentNotice] = relationship()
