"""The kind fallback: ask again once, then offer a person; it never loops on the same question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

ACTION_FALLBACK = "action_fallback"
FALLBACK_RESPONSES = {"utter_fallback", "utter_fallback_twice"}


def misunderstandings_in_a_row(events: list[dict[str, Any]]) -> int:
    """Count the turns in a row, up to now, that the assistant answered "non ho capito".

    Read from what was said, not from which action said it: action_out_of_turn reads a
    message first and may end in the fallback itself, and any other answer ends a streak.
    """
    streak = 0
    for event in events:
        if event.get("event") != "bot":
            continue
        said = (event.get("metadata") or {}).get("utter_action")
        streak = streak + 1 if said in FALLBACK_RESPONSES else 0
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
