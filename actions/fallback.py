"""The kind fallback: ask again once, then offer a person; it never loops on the same question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

ACTION_FALLBACK = "action_fallback"
_NEUTRAL_ACTIONS = {"action_listen", "action_session_start", "action_unlikely_intent"}


def misunderstandings_in_a_row(events: list[dict[str, Any]]) -> int:
    """Count the turns in a row, up to now, that ended in the fallback."""
    streak = 0
    for event in events:
        if event.get("event") != "action":
            continue
        name = event.get("name")
        if name == ACTION_FALLBACK:
            streak += 1
        elif name not in _NEUTRAL_ACTIONS:
            streak = 0
    return streak


class ActionFallback(Action):
    """Answer a message the assistant did not understand."""

    def name(self) -> str:
        return ACTION_FALLBACK

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # This turn's own execution is not in the tracker yet, hence the + 1.
        if misunderstandings_in_a_row(tracker.events) + 1 >= 2:
            dispatcher.utter_message(response="utter_fallback_twice")
        else:
            dispatcher.utter_message(response="utter_fallback")
        # Reverting the message keeps a misunderstanding out of the dialogue state,
        # so the next message is read as if this one never derailed the conversation.
        return [UserUtteranceReverted()]
