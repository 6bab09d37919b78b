"""Where a pratica is: by protocol number or from the list, only to its linked owner."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import parsing
from actions.common import (
    MENU,
    PERSON,
    api,
    channel_user,
)
from actions.practices import texts
from backend_client import (
    BackOfficeError,
    NotLinked,
    PracticeDetail,
    PracticeNotFound,
    PracticeSummary,
)
from sportello.formatting import numeric_date


def describe(detail: PracticeDetail) -> str:
    lines = [
        f"Pratica {detail.protocol_number} — {detail.practice_type_name}",
        f"Stato: {detail.status_label} (aggiornata il {numeric_date(detail.updated_at)})",
    ]
    if detail.requested_documents:
        lines.append(f"L'ufficio chiede: {detail.requested_documents}")
    lines.append(f"Cosa succede ora: {detail.next_step}")
    if detail.history:
        lines.append("Storia:")
        lines += [f"• {numeric_date(h.at)} {h.status_label}" + (f" — {h.note}" if h.note else "") for h in detail.history]
    return "\n".join(lines)


class ValidateStatusForm(FormValidationAction):
    """Ask the protocol number; only the chat linked to the owner is told the status."""

    def name(self) -> str:
        return "validate_status_form"

    async def validate_protocol_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = parsing.protocol_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(text=texts.BAD_PROTOCOL)
        return {"protocol_number": number}


LINK_BUTTON = {"title": "🔗 Ho il codice", "payload": "/account_link"}


_PRACTICE_BUTTONS = 6
_KIND_CHARS = 34


def practice_button(practice: PracticeSummary) -> dict[str, str]:
    """A pratica as one tap to its details: its number and the kind a citizen recognises."""
    kind = practice.practice_type_name.split(" – ")[0]
    if len(kind) > _KIND_CHARS:
        kind = kind[:_KIND_CHARS].rsplit(" ", 1)[0] + "…"
    return {
        "title": f"🔎 {practice.protocol_number} – {kind}",
        "payload": f'/practice_status{{"protocol_number": "{practice.protocol_number}"}}',
    }


class ActionAskProtocolNumber(Action):
    """Ask which pratica to follow: a linked citizen taps one of their own, anyone may type it."""

    def name(self) -> str:
        return "action_ask_protocol_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            practices = await (await api()).practices.mine(channel_user(tracker))
        except BackOfficeError:
            # Not linked, or the back office is down: the typed question still works.
            practices = []
        if not practices:
            dispatcher.utter_message(response="utter_ask_protocol_number")
            return []
        dispatcher.utter_message(
            text=texts.WHICH_PRACTICE,
            buttons=[*(practice_button(p) for p in practices[:_PRACTICE_BUTTONS]), MENU, PERSON],
        )
        return []


class ActionPracticeStatus(Action):
    """Say where a pratica is, in plain words, to its owner only."""

    def name(self) -> str:
        return "action_practice_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("protocol_number")
        forget = [SlotSet("protocol_number", None)]
        if not number:
            return forget
        try:
            detail = await (await api()).practices.get(channel_user(tracker), number)
        except NotLinked:
            # Whatever the number: nothing tells whether it exists or whose it is.
            dispatcher.utter_message(text=texts.NOT_LINKED_STATUS, buttons=[LINK_BUTTON, MENU, PERSON])
            return forget
        except PracticeNotFound:
            # The same words for a number that does not exist and for someone else's.
            dispatcher.utter_message(
                text=texts.NOT_FOUND.format(number=number),
                buttons=[{"title": "🔎 Un altro numero", "payload": "/practice_status"}, MENU, PERSON],
            )
            return forget
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return forget
        buttons = [{"title": "📂 Le mie pratiche", "payload": "/practice_list"}, MENU, PERSON]
        if detail.status == "integrazione_richiesta":
            buttons.insert(0, {"title": "ℹ️ Come mando il documento", "payload": "/help"})
            dispatcher.utter_message(text=describe(detail) + texts.SEND_HERE, buttons=buttons)
        else:
            dispatcher.utter_message(text=describe(detail), buttons=buttons)
        return forget


class ActionPracticeList(Action):
    """List the linked citizen's pratiche, each a button to its details."""

    def name(self) -> str:
        return "action_practice_list"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            practices = await (await api()).practices.mine(channel_user(tracker))
        except NotLinked:
            dispatcher.utter_message(response="utter_need_link")
            return []
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        if not practices:
            dispatcher.utter_message(
                text=texts.NO_PRACTICES,
                buttons=[{"title": "📄 Nuova pratica", "payload": "/practice_submit"}, MENU, PERSON],
            )
            return []
        lines = ["Le tue pratiche:"]
        buttons = []
        for practice in practices[:10]:
            lines.append(f"• {practice.protocol_number} — {practice.practice_type_name}: {practice.status_label}")
            buttons.append(
                {
                    "title": f"🔎 {practice.protocol_number}",
                    "payload": f'/practice_status{{"protocol_number": "{practice.protocol_number}"}}',
                }
            )
        dispatcher.utter_message(text="\n".join(lines), buttons=[*buttons, MENU, PERSON])
        return []
