"""What the back-office API tests share: the service credential, a chat's headers, linking."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]

API_KEY = "test-backoffice-key"  # the key tests/backoffice/conftest.py gives the server
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


DEMO_STAFF_SUFFIX = "-demo-2026"  # the demo accounts' password: user name + this (backoffice/db/seed.py)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a console page puts in its forms."""
    found = _CSRF.search(html)
    assert found is not None, "no form with a CSRF token on the page"
    return found.group(1)


async def console_login(http: Client, username: str, password: str | None = None) -> str:
    """Log in to the console as a person of the office; the session's CSRF token."""
    form = await http.get("/staff/login")
    response = await http.post(
        "/staff/login",
        data={
            "utente": username,
            "password": password if password is not None else username + DEMO_STAFF_SUFFIX,
            "csrf": csrf_of(await form.text()),
            "dopo": "/staff",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    home = await http.get("/staff/registro" if username in ("admin", "responsabile") else "/staff")
    return csrf_of(await home.text())
