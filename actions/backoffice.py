"""The action server's one back-office client, opened on first use inside the running loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from backend_client import BackOfficeClient, BackOfficeError, NotLinked
from sportello.settings import get_settings

_client: BackOfficeClient | None = None
_lock = asyncio.Lock()


async def backoffice() -> BackOfficeClient:
    """Return the process-wide client, creating its session on first use.

    rasa-sdk imports every module in this package at start-up, before its event loop
    runs, so the aiohttp session cannot be created at import time.
    """
    global _client
    async with _lock:
        if _client is None:
            settings = get_settings()
            session = aiohttp.ClientSession()
            _client = BackOfficeClient(
                session,
                base_url=settings.backoffice_url,
                api_key=settings.backoffice_api_key.get_secret_value(),
                timeout=5.0,
            )
    return _client


Run = Callable[[Any, CollectingDispatcher, Tracker, dict[str, Any]], Awaitable[list[EventType]]]


def kind_when_unavailable(not_linked: str = "utter_need_link") -> Callable[[Run], Run]:
    """Turn "not linked" and "back office down" into the kind answer, in one place.

    The citizen keeps whatever they had (the action returns no events) and gets the menu and
    a person with the answer.
    """

    def decorate(run: Run) -> Run:
        @functools.wraps(run)
        async def guarded(
            action: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
        ) -> list[EventType]:
            try:
                return await run(action, dispatcher, tracker, domain)
            except NotLinked:
                dispatcher.utter_message(response=not_linked)
            except BackOfficeError:
                dispatcher.utter_message(response="utter_backoffice_down")
            return []

        return guarded

    return decorate
