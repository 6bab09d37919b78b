"""Typed results of the identity area: link codes and the linked citizen."""

from __future__ import annotations

from datetime import datetime

from backend_client.models.base import Result


class LinkCode(Result):
    """A one-time code that links a chat account to a citizen, as the citizen reads it."""

    code: str  # K7P2-QX9M
    expires_at: datetime


class LinkedCitizen(Result):
    """Who a chat account belongs to; the codice fiscale is masked (RSS***50C12***D)."""

    given_name: str
    fiscal_code_masked: str
    # Whether the citizen wants reminders of payments falling due.
    tax_reminders: bool = True
