"""Avvisi: topics and zones, a chat's subscriptions, publishing (staff) and its stats."""

from __future__ import annotations

from typing import Any

from backend_client.transport import Transport


class AnnouncementsAPI:
    """`client.announcements`: what a chat asked for, and the office publishing notices."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def catalogue(self) -> dict[str, Any]:
        """`{"topics": [{code, title, emoji, priority}], "zones": [{code, name}]}`."""
        return dict(await self._transport.request("GET", "/v1/announcement-topics"))

    async def locate(self, lat: float, lon: float) -> dict[str, Any]:
        """The zone `{code, name}` of a point; NotFound outside every zone."""
        return dict(
            await self._transport.request(
                "GET", "/v1/announcement-zones/locate", params={"lat": str(lat), "lon": str(lon)}
            )
        )

    async def mine(self, channel_user: str) -> dict[str, Any]:
        """`{"zone": {code, name} | None, "topics": [code]}`."""
        return dict(await self._transport.request("GET", "/v1/me/announcements", channel_user=channel_user))

    async def update(
        self,
        channel_user: str,
        *,
        topic: str | None = None,
        subscribed: bool | None = None,
        zone: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if topic is not None:
            body.update(topic=topic, subscribed=bool(subscribed))
        if zone is not None:
            body["zone"] = zone
        return dict(
            await self._transport.request("PUT", "/v1/me/announcements", json=body, channel_user=channel_user)
        )

    async def stop_all(self, channel_user: str) -> None:
        await self._transport.request("DELETE", "/v1/me/announcements", channel_user=channel_user)

    async def publish(self, staff_user: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Publish a notice once per `key` (retried safely)."""
        return dict(
            await self._transport.request(
                "POST",
                "/v1/announcements",
                json=body,
                idempotency_key=key,
                staff_user=staff_user,
                retry_on_connection_errors=True,
            )
        )

    async def get(self, announcement_id: int) -> dict[str, Any]:
        return dict(await self._transport.request("GET", f"/v1/announcements/{announcement_id}"))
