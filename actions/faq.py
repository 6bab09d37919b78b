"""Answer the FAQ retrieval intent, typed (ResponseSelector) or pressed (faq_topic entity)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import api
from actions.office_hours import office_hours_answer
from actions.when import rome_today, said_day
from backend_client import BackOfficeError

FAQ_TOPICS = frozenset(
    {
        "office_hours",
        "office_location",
        "contacts",
        "cie_requirements",
        "tari_info",
        "imu_info",
        "building_permits_info",
        "certificates_online",
    }
)


def faq_topic(latest_message: dict[str, Any]) -> str | None:
    """Return the FAQ topic of the message, if it names a known one."""
    for entity in latest_message.get("entities") or []:
        if entity.get("entity") == "faq_topic":
            topic = str(entity.get("value", ""))
            return topic if topic in FAQ_TOPICS else None
    selector = (latest_message.get("response_selector") or {}).get("faq") or {}
    utter_action = str(selector.get("response", {}).get("utter_action") or "")
    topic = utter_action.removeprefix("utter_faq/")
    return topic if topic in FAQ_TOPICS else None


class ActionAnswerFaq(Action):
    """Give the answer of one FAQ topic, then offer more help."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = faq_topic(tracker.latest_message)
        if topic is None:
            # A forged or stale button, or a question the selector could not place.
            dispatcher.utter_message(response="utter_help")
            return [SlotSet("faq_topic", None)]
        if not (topic == "office_hours" and await self._say_live_office_hours(dispatcher, tracker)):
            dispatcher.utter_message(response=f"utter_faq/{topic}")
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("faq_topic", None)]

    @staticmethod
    async def _say_live_office_hours(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """Office hours from the back office, for the office and the day the question names."""
        try:
            client = await api()
            services = await client.appointments.services()
        except BackOfficeError:
            return False  # the general answer in the domain is better than none
        if not services:
            return False
        service_code = next(
            (
                str(e.get("value"))
                for e in tracker.latest_message.get("entities") or []
                if e.get("entity") == "service"
            ),
            None,
        )
        text = str(tracker.latest_message.get("text") or "")
        today = rome_today()
        day = None if text.startswith("/") else said_day(text, today)
        dispatcher.utter_message(text=office_hours_answer(services, service_code, day, today))
        return True
