"""What every action shares: the back office's client, the kind answer when it fails, the
buttons that are always there, and reading the citizen's latest message."""

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

MENU = {"title": "🏠 Menu", "payload": "/main_menu"}
PERSON = {"title": "🙋 Parla con una persona", "payload": "/human_handoff"}
CANCEL = {"title": "✖️ Annulla", "payload": "/cancel"}
# Said (as a custom payload) once a task is done: the channel may then offer the avvisi, once.
TASK_DONE = {"task_done": True}


def channel_user(tracker: Tracker) -> str:
    """The citizen as the back office knows the channel: Rasa's sender is the Telegram user."""
    return f"telegram:{tracker.sender_id}"


def entity(tracker: Tracker, name: str) -> Any:
    for found in tracker.latest_message.get("entities") or []:
        if found.get("entity") == name:
            return found.get("value")
    return None


def just_spoke(tracker: Tracker) -> bool:
    """Whether the running form follows the citizen's message (its validation sees the form as
    the latest action, so the one before it tells)."""
    actions = [event.get("name") for event in tracker.events if event.get("event") == "action"]
    return len(actions) >= 2 and actions[-2] == "action_listen"


def telegram_facts(tracker: Tracker) -> dict[str, Any]:
    metadata = tracker.latest_message.get("metadata") or {}
    facts = metadata.get("telegram") if isinstance(metadata, dict) else None
    return facts if isinstance(facts, dict) else {}


_client: BackOfficeClient | None = None
_lock = asyncio.Lock()


async def api() -> BackOfficeClient:
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
