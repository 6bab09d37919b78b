"""What the identity API answers: a minted link code, the citizen a chat is linked to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backoffice.identity.domain import format_link_code

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A one-time code linking a chat account to the citizen it was minted for."""

    code: str  # normalised, without the dash
    expires_at: datetime

    def to_json(self) -> JSONObject:
        return {
            "code": format_link_code(self.code),
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class LinkedCitizen:
    """Who a chat account belongs to, as much as the chat may see."""

    citizen_id: int
    given_name: str
    fiscal_code_masked: str
    # Whether the chat reminds the citizen of payments falling due.
    tax_reminders: bool = True

    def to_json(self) -> JSONObject:
        return {
            "given_name": self.given_name,
            "fiscal_code_masked": self.fiscal_code_masked,
            "tax_reminders": self.tax_reminders,
        }
