"""What the back-office API tests share: the service credential, a chat's headers, linking."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]

API_KEY = "test-backoffice-key"  # the key tests/backoffice/conftest.py gives the server
STAFF_PASSWORD = "test-staff-password"  # the staff page's own password, never the API key
FILE_SECRET = "test-file-link-secret"  # signs file, receipt and checkout links
AUTH = {"X-API-Key": API_KEY}


def chat(user: int) -> dict[str, str]:
    """The headers of the service calling for one Telegram user."""
    return {**AUTH, "X-Channel-User": f"telegram:{user}"}


async def link_code(http: Client, fiscal_code: str) -> str:
    """The portal's part: a one-time code for a citizen proven with SPID/CIE."""
    response = await http.post("/v1/link-codes", json={"fiscal_code": fiscal_code}, headers=AUTH)
    assert response.status == 201, await response.text()
    return str((await response.json())["code"])


async def link(http: Client, user: int, fiscal_code: str) -> None:
    """Link a Telegram user to a citizen, as the bot does with the portal's code."""
    code = await link_code(http, fiscal_code)
    response = await http.post("/v1/channel-links", json={"code": code}, headers=chat(user))
    assert response.status == 201, await response.text()
