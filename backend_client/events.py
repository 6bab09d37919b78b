"""The event feed and the outbox of notices the bots claim."""

from __future__ import annotations

from typing import Any

from backend_client.models.events import Delivery, EventPage
from backend_client.transport import (
    Transport,
    parse,
    parse_list,
)


class EventsAPI:
    """`client.events`: the event feed and the outbox of notices the bots claim."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def page(self, after: int = 0, limit: int = 100) -> EventPage:
        """Events with id greater than `after`, oldest first, at most `limit`."""
        body = await self._transport.request(
            "GET", "/v1/events", params={"after": after, "limit": limit}
        )
        return parse(body, EventPage)

    async def claim(self, limit: int = 50, lease_seconds: int = 60) -> list[Delivery]:
        """Lease due notices for Telegram chats, at most one per chat, oldest first."""
        body = await self._transport.request(
            "POST",
            "/v1/deliveries/claim",
            json={"channel": "telegram", "limit": limit, "lease_seconds": lease_seconds},
            retry_on_connection_errors=True,
        )
        return parse_list(body, "deliveries", Delivery)

    async def sent(self, delivery_id: int) -> None:
        """Telegram accepted the notice: it is never sent again."""
        await self._transport.request("POST", f"/v1/deliveries/{delivery_id}/sent", retry_on_connection_errors=True)

    async def failed(
        self, delivery: Delivery, error: str, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        """The notice could not go: try later (backing off), or park it when `permanent`."""
        payload: dict[str, Any] = {"lease": delivery.lease, "error": error, "permanent": permanent}
        if retry_after is not None:
            payload["retry_after"] = retry_after
        await self._transport.request(
            "POST", f"/v1/deliveries/{delivery.id}/failed", json=payload, retry_on_connection_errors=True
        )
