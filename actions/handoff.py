"""Ask the channel to hand the chat to a person, saying what the citizen was doing."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# The topic a clerk reads first in the staff group, from what the citizen last asked.
TOPICS = {
    "practice": "Pratiche",
    "report_issue": "Segnalazione",
    "tax": "Tributi",
    "appointment": "Sportello e appuntamenti",
    "account_link": "Accesso e identità",
    "privacy_request": "Dati personali",
    "data_": "Dati personali",
    "faq": "Informazioni",
}


# When the intent says little ("ho un problema con la tari" reads as a bare answer), the
# entities still say what it is about.
ENTITY_TOPICS = {
    "tax_type": "Tributi",
    "notice_number": "Tributi",
    "practice_type": "Pratiche",
    "protocol_number": "Pratiche",
    "issue_category": "Segnalazione",
    "service": "Sportello e appuntamenti",
}


def topic_of(tracker: Tracker) -> str:
    """The last thing the citizen wanted before asking for a person, in the comune's words."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse_data = event.get("parse_data") or {}
        intent = (parse_data.get("intent") or {}).get("name") or ""
        for prefix, label in TOPICS.items():
            if intent.startswith(prefix):
                return label
        for found in parse_data.get("entities") or []:
            if found.get("entity") in ENTITY_TOPICS:
                return ENTITY_TOPICS[found["entity"]]
    return "Richiesta generica"


class ActionHandoff(Action):
    """Hand over to staff; the channel opens the ticket and tells the citizen where they stand."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(json_message={"handoff": {"topic": topic_of(tracker)}})
        # Whatever form was open is left: the person takes it from here.
        return [ActiveLoop(None), SlotSet("requested_slot", None)]
