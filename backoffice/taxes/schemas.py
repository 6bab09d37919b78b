"""What tributi answer: the payee, positions, notices, receipts, what a checkout page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from backoffice.db.models import TaxStatus
from backoffice.taxes.domain import qr_payload

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Payee:
    """Who the notices are payable to: the comune, as pagoPA knows it."""

    name: str  # "Comune di Cerveteri"
    fiscal_code: str  # 11 digits
    segregation_code: str  # 2 digits


@dataclass(frozen=True, slots=True)
class TaxPosition:
    """One instalment a citizen owes or paid, with its status as of today."""

    id: int
    tax_type: str
    description: str
    year: int
    instalment: int
    amount_cents: int
    due_date: date
    status: str
    notice_number: str | None

    @property
    def payable(self) -> bool:
        return self.status != TaxStatus.PAGATO and self.amount_cents > 0

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "tax_type": self.tax_type,
            "description": self.description,
            "year": self.year,
            "instalment": self.instalment,
            "amount_cents": self.amount_cents,
            "due_date": self.due_date.isoformat(),
            "status": self.status,
            "notice_number": self.notice_number,
            "payable": self.payable,
        }


@dataclass(frozen=True, slots=True)
class PaymentNotice:
    """A pagoPA notice: what the citizen pays with, by QR code, notice number or checkout."""

    position_id: int
    notice_number: str
    payee_name: str
    payee_fiscal_code: str
    amount_cents: int
    due_date: date
    description: str
    tax_type: str
    status: str
    checkout_token: str

    @property
    def qr_payload(self) -> str:
        return qr_payload(self.notice_number, self.payee_fiscal_code, self.amount_cents)

    def to_json(self, checkout_url: str) -> JSONObject:
        return {
            "position_id": self.position_id,
            "notice_number": self.notice_number,
            "payee_name": self.payee_name,
            "payee_fiscal_code": self.payee_fiscal_code,
            "amount_cents": self.amount_cents,
            "due_date": self.due_date.isoformat(),
            "description": self.description,
            "tax_type": self.tax_type,
            "status": self.status,
            "qr_payload": self.qr_payload,
            "checkout_url": checkout_url,
        }


@dataclass(frozen=True, slots=True)
class Receipt:
    """The receipt of a paid notice."""

    receipt_id: int
    receipt_number: str
    amount_cents: int
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class Checkout:
    """What the checkout page shows: the notice and, once paid, its receipt."""

    notice: PaymentNotice
    receipt: Receipt | None
    # The link's time is over: it shows nothing and pays nothing (a paid notice still
    # says so).
    expired: bool = False

    @property
    def paid(self) -> bool:
        return self.notice.status == TaxStatus.PAGATO
