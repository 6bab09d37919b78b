"""Rasa 3.6's own Telegram connector, pointed at the local Bot API server: the bench's peer.

Runs inside Rasa (Python 3.10), named in the credentials the bench writes:
`tests.bench.rasa_telegram.LocalTelegramInput: {access_token, verify, webhook_url, base_url}`.
Nothing of the connector changes but the server it talks to (aiogram's TelegramAPIServer):
updates come by webhook, every update costs a getMe as in Rasa, replies go out unthrottled.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels.telegram import TelegramInput, TelegramOutput


class LocalTelegramOutput(TelegramOutput):
    def __init__(self, access_token: str | None, base_url: str) -> None:
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(base_url))


class LocalTelegramInput(TelegramInput):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LocalTelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        channel = cls(credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"))
        channel.base_url = str(credentials["base_url"])
        return channel

    def get_output_channel(self) -> TelegramOutput:
        channel = LocalTelegramOutput(self.access_token, self.base_url)

        async def set_webhook() -> None:
            await channel.set_webhook(url=self.webhook_url)
            # As Rasa does, but the session made in this short-lived loop is closed here, so
            # aiogram opens a new one in the server's loop (else: "Event loop is closed").
            await channel.session.close()

        asyncio.run(set_webhook())
        return channel
