"""Typed async client of the back-office API: one transport, one client per area.

`client.identity`, `client.practices`, `client.taxes`, `client.appointments`, `client.events`, `client.announcements`;
the whole API is described in backoffice/openapi.yaml.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import aiohttp

from backend_client.announcements import AnnouncementsAPI
from backend_client.appointments import AppointmentsAPI
from backend_client.events import EventsAPI
from backend_client.identity import IdentityAPI
from backend_client.models.base import Health
from backend_client.practices import PracticesAPI
from backend_client.taxes import TaxesAPI
from backend_client.transport import Transport, new_idempotency_key, parse
from sportello.settings import Settings

__all__ = ["BackOfficeClient", "new_idempotency_key", "open_client"]


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
        self.transport = Transport(
            session, base_url, api_key, timeout, retries=retries, retry_backoff=retry_backoff,
            owns_session=owns_session,
        )
        self.identity = IdentityAPI(self.transport)
        self.practices = PracticesAPI(self.transport)
        self.taxes = TaxesAPI(self.transport)
        self.appointments = AppointmentsAPI(self.transport)
        self.events = EventsAPI(self.transport)
        self.announcements = AnnouncementsAPI(self.transport)

    async def aclose(self) -> None:
        """Close the HTTP session if this client opened it (see open_client)."""
        await self.transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def health(self) -> Health:
        """Check the back office and its database; raise BackOfficeUnavailable if either is down."""
        return parse(await self.transport.request("GET", "/health"), Health)

    async def download(self, url: str) -> bytes:
        """Fetch a document by its capability URL (no API key is sent to it).

        NotFound if the URL is not valid, DownloadLinkExpired after its hour.
        """
        return await self.transport.request("GET", url, absolute=True)  # type: ignore[no-any-return]


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
