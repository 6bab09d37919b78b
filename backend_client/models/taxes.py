"""Typed results of the taxes area: positions and pagoPA notices."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from backend_client.models.base import Result

TaxStatus = Literal["da_pagare", "scaduto", "pagato"]


class TaxPosition(Result):
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


class PaymentNotice(Result):
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
