"""Async client of the back-office API: one session, timeouts, bounded retries, typed results."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError

from backend_client.errors import (
    BackOfficeError,
    BackOfficeUnavailable,
    Conflict,
    InvalidRequest,
    NotFound,
    Unauthorized,
)
from backend_client.models import CounterService, EventPage, Health, PracticeType
from sportello.settings import Settings

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ERRORS_BY_STATUS: dict[int, type[BackOfficeError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
}


def new_idempotency_key() -> str:
    """A fresh key for one creating POST; reuse it when retrying that same POST."""
    return uuid.uuid4().hex


class BackOfficeClient:
    """Typed client of the back-office API; share one per process."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        timeout: float = 5.0,
        *,
        retries: int = 2,
        retry_backoff: float = 0.2,
        owns_session: bool = False,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._headers = {"X-API-Key": api_key, "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._retry_backoff = retry_backoff
        self._owns_session = owns_session

    async def aclose(self) -> None:
        """Close the HTTP session if this client opened it (see open_client)."""
        if self._owns_session and not self._session.closed:
            await self._session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- API --------------------------------------------------------------------------

    async def health(self) -> Health:
        """Check the back office and its database; raise BackOfficeUnavailable if either is down."""
        return Health.model_validate(await self._request("GET", "/health"))

    async def list_counter_services(self) -> list[CounterService]:
        """Every counter service with its opening hours."""
        body = await self._request("GET", "/v1/counter-services")
        return self._parse_list(body, "counter_services", CounterService)

    async def get_counter_service(self, code: str) -> CounterService:
        """One counter service; NotFound if the code is unknown."""
        body = await self._request("GET", f"/v1/counter-services/{_segment(code)}")
        return self._parse(body, CounterService)

    async def list_practice_types(self) -> list[PracticeType]:
        """The pratica types citizens can submit, with their fields."""
        body = await self._request("GET", "/v1/practice-types")
        return self._parse_list(body, "practice_types", PracticeType)

    async def events(self, after: int = 0, limit: int = 100) -> EventPage:
        """Events with id greater than `after`, oldest first, at most `limit`."""
        body = await self._request(
            "GET", "/v1/events", params={"after": after, "limit": limit}
        )
        return self._parse(body, EventPage)

    # --- plumbing ---------------------------------------------------------------------

    async def _create(
        self, path: str, payload: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Any:
        """POST something new; the back office dedupes it by the Idempotency-Key."""
        return await self._request(
            "POST",
            path,
            json=payload,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one call, retrying idempotent ones on connection errors and 5xx; return JSON."""
        headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        attempts = 1 + (self._retries if method in _IDEMPOTENT_METHODS else 0)
        for attempt in range(1, attempts + 1):
            try:
                return await self._send(method, path, params, json, headers)
            except BackOfficeUnavailable as exc:
                if attempt == attempts:
                    raise
                # Path only: query strings and bodies may carry personal data.
                log.info(
                    "back office %s %s failed (%s), retrying", method, path, exc.message
                )
                await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> Any:
        url = self._base_url + path
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                body = await _read_json(response)
                if response.status >= 500:
                    raise BackOfficeUnavailable(
                        _error_message(body, f"back office answered {response.status}"),
                        status=response.status,
                        code=_error_code(body),
                    )
                if response.status >= 400:
                    error_type = _ERRORS_BY_STATUS.get(response.status, BackOfficeError)
                    raise error_type(
                        _error_message(body, f"back office answered {response.status}"),
                        status=response.status,
                        code=_error_code(body),
                    )
                return body
        except aiohttp.ClientError as exc:
            raise BackOfficeUnavailable(
                f"back office unreachable: {type(exc).__name__}"
            ) from exc
        except TimeoutError as exc:
            raise BackOfficeUnavailable("back office timed out") from exc

    @staticmethod
    def _parse(body: Any, model: type[ModelT]) -> ModelT:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise BackOfficeError(
                f"unexpected {model.__name__} from back office"
            ) from exc

    @classmethod
    def _parse_list(cls, body: Any, key: str, model: type[ModelT]) -> list[ModelT]:
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            raise BackOfficeError(
                f"unexpected answer from back office: no {key!r} list"
            )
        return [cls._parse(item, model) for item in body[key]]


async def _read_json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        # A proxy's HTML error page, say; the status still tells what happened.
        return None


def _error_message(body: Any, default: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or default)
    return default


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return str(code) if code is not None else None
    return None


def _segment(value: str) -> str:
    """Quote a value for use as one path segment, so '/' or '?' cannot change the route."""
    return quote(value, safe="")


async def open_client(settings: Settings, timeout: float = 5.0) -> BackOfficeClient:
    """Open a client with its own session; the caller closes it with `await client.aclose()`."""
    session = aiohttp.ClientSession(raise_for_status=False)
    return BackOfficeClient(
        session,
        settings.backoffice_url,
        settings.backoffice_api_key.get_secret_value(),
        timeout,
        owns_session=True,
    )
