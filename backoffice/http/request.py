"""Reading a request at the edge: JSON bodies, query numbers, the chat account, URLs, the time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web

from backoffice.appkeys import CLOCK, SESSIONMAKER, SETTINGS
from backoffice.db.uow import UnitOfWork
from backoffice.errors import InvalidRequest
from backoffice.identity.domain import CHANNEL_USER_HEADER, ChannelUser
from sportello.clock import Clock

STAFF_USER_HEADER = "X-Staff-User"


def unit_of_work(request: web.Request) -> UnitOfWork:
    """A fresh unit of work on the application's database, for one use case."""
    return UnitOfWork(request.app[SESSIONMAKER])


def clock(request: web.Request) -> Clock:
    return request.app[CLOCK]


def now(request: web.Request) -> datetime:
    """Now (aware, UTC) by the application's clock, which tests may freeze."""
    return request.app[CLOCK]()


def today(request: web.Request) -> date:
    """The comune's today: due dates and closed days are days in Italy."""
    return request.app[CLOCK].today()


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """The integer query parameter `name`, `default` when absent; InvalidRequest out of range."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return value


def channel_user(request: web.Request) -> ChannelUser:
    return ChannelUser.parse(request.headers.get(CHANNEL_USER_HEADER))


def staff_user(request: web.Request) -> str | None:
    """Who in the office acts, as the staff tools say (X-Staff-User), if they say."""
    return request.headers.get(STAFF_USER_HEADER, "").strip()[:100] or None


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise InvalidRequest("the body must be JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def base_url(request: web.Request) -> str:
    """Where citizens' clients reach this back office: BACKOFFICE_URL when configured."""
    settings = request.app[SETTINGS]
    if "backoffice_url" in settings.model_fields_set:
        return settings.backoffice_url.rstrip("/")
    return str(request.url.origin())


def public_base_url(request: web.Request) -> str:
    """Where browsers and the desk's phone reach the public pages: PUBLIC_BASE_URL if set."""
    public = request.app[SETTINGS].public_base_url
    return public.rstrip("/") if public else base_url(request)


def file_secret(request: web.Request) -> str:
    """The key of signed links; its own secret, never the API key."""
    return request.app[SETTINGS].backoffice_file_secret.get_secret_value()
