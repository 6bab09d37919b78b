"""The client of Rasa's REST channel: one message in, the list of the assistant's answers out."""

from __future__ import annotations

import logging
import time
from typing import Any

import aiohttp

from bot.health import TURN_TIME, TURNS

logger = logging.getLogger(__name__)

RasaMessage = dict[str, Any]


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer properly."""


class RasaClient:
    """Talk to `POST /webhooks/rest/webhook` over one shared session."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(
        self, sender: str, message: str, metadata: dict[str, Any] | None = None
    ) -> list[RasaMessage]:
        """Send one citizen message and return what the assistant answers."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        started = time.perf_counter()
        try:
            async with self._session.post(self._url, json=body, timeout=self._timeout) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                answers = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            # Only the error's type: its text could echo the citizen's message.
            logger.warning("Rasa unavailable: %s", type(error).__name__)
            TURNS.labels("rasa_unavailable").inc()
            raise RasaUnavailable(type(error).__name__) from error
        except RasaUnavailable:
            TURNS.labels("rasa_unavailable").inc()
            raise
        if not isinstance(answers, list):
            TURNS.labels("rasa_unavailable").inc()
            raise RasaUnavailable("unexpected answer shape")
        TURNS.labels("answered").inc()
        TURN_TIME.observe(time.perf_counter() - started)
        return [answer for answer in answers if isinstance(answer, dict)]
