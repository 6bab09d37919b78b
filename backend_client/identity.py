"""Linking a chat to a citizen, who it is, their data and their choices."""

from __future__ import annotations

from backend_client.models.identity import LinkCode, LinkedCitizen
from backend_client.models.mydata import DataErasure, MyData
from backend_client.transport import (
    Transport,
    parse,
)


class IdentityAPI:
    """`client.identity`: linking a chat to a citizen, who it is, their data and their choices."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def create_link_code(self, fiscal_code: str) -> LinkCode:
        """Mint a one-time link code for a citizen (the portal's part; demos and tests).

        CitizenNotFound if no citizen has this codice fiscale.
        """
        body = await self._transport.request(
            "POST", "/v1/link-codes", json={"fiscal_code": fiscal_code}
        )
        return parse(body, LinkCode)

    async def link(self, channel_user: str, code: str) -> LinkedCitizen:
        """Link a chat account ("telegram:123") with a link code, case and dash insensitive.

        LinkCodeInvalid, LinkCodeExpired (also when already used), TooManyAttempts.
        """
        body = await self._transport.request(
            "POST",
            "/v1/channel-links",
            json={"code": code},
            channel_user=channel_user,
        )
        return parse(body, LinkedCitizen)

    async def me(self, channel_user: str) -> LinkedCitizen:
        """Who the chat account is linked to; NotLinked if nobody."""
        body = await self._transport.request("GET", "/v1/me", channel_user=channel_user)
        return parse(body, LinkedCitizen)

    async def unlink(self, channel_user: str) -> None:
        """Unlink the chat account; NotLinked if it was not linked."""
        await self._transport.request("DELETE", "/v1/channel-links/me", channel_user=channel_user)

    async def my_data(self, channel_user: str) -> MyData:
        """Everything the back office keeps about the chat's citizen ("i miei dati");
        `citizen` is None for a chat linked to nobody."""
        body = await self._transport.request("GET", "/v1/me/data", channel_user=channel_user)
        return parse(body, MyData)

    async def erase_my_data(self, channel_user: str) -> DataErasure:
        """Unlink the citizen's chats and delete what only the assistant needed; pratiche,
        payments and bookings stay (`kept`, with the reason). Retried on connection errors:
        erasing twice erases nothing more."""
        body = await self._transport.request(
            "DELETE", "/v1/me/data", channel_user=channel_user, retry_on_connection_errors=True
        )
        return parse(body, DataErasure)

    async def set_preferences(
        self, channel_user: str, tax_reminders: bool
    ) -> LinkedCitizen:
        """Turn reminders of payments falling due on or off; the citizen as `me` answers."""
        body = await self._transport.request(
            "PUT",
            "/v1/me/preferences",
            json={"tax_reminders": tax_reminders},
            channel_user=channel_user,
            retry_on_connection_errors=True,
        )
        return parse(body, LinkedCitizen)
