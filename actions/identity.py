"""Who is writing: link the chat to the citizen with the portal's code, unlink, my data."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import parsing
from actions.backoffice import backoffice
from backend_client import (
    BackOfficeError,
    BackOfficeUnavailable,
    LinkCodeExpired,
    LinkCodeInvalid,
    LinkedCitizen,
    NotLinked,
    TooManyAttempts,
)

BLOCKED = "__too_many_attempts__"
LINKED = "__linked__"
MENU = {"title": "🏠 Menu", "payload": "/main_menu"}
PERSON = {"title": "🙋 Parla con una persona", "payload": "/human_handoff"}


def channel_user(tracker: Tracker) -> str:
    """The citizen as the back office knows the channel: Rasa's sender is the Telegram user."""
    return f"telegram:{tracker.sender_id}"


async def linked_citizen(tracker: Tracker) -> LinkedCitizen | None:
    """The citizen linked to this chat, or None; BackOfficeError if the back office is down."""
    client = await backoffice()
    try:
        return await client.me(channel_user(tracker))
    except NotLinked:
        return None


class ValidateLinkForm(FormValidationAction):
    """Check the portal's link code with the back office, which does the linking."""

    def name(self) -> str:
        return "validate_link_form"

    async def validate_link_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = parsing.link_code(str(value or ""))
        if code is None:
            dispatcher.utter_message(
                text="Questo non sembra un codice di collegamento: sono 8 lettere e numeri, come K7P2-QX9M. Riprova."
            )
            return {"link_code": None}
        client = await backoffice()
        try:
            citizen = await client.link_channel(channel_user(tracker), code)
        except LinkCodeInvalid:
            dispatcher.utter_message(text="Questo codice non è valido. Controllalo e riscrivilo.")
            return {"link_code": None}
        except LinkCodeExpired:
            dispatcher.utter_message(
                text="Questo codice è scaduto o è già stato usato. Chiedine uno nuovo sul portale e scrivimelo."
            )
            return {"link_code": None}
        except TooManyAttempts:
            return {"link_code": BLOCKED}
        except BackOfficeUnavailable:
            dispatcher.utter_message(response="utter_backoffice_down")
            return {"link_code": None, "requested_slot": None}
        dispatcher.utter_message(
            text=f"Fatto, {citizen.given_name}: questa chat è collegata al tuo profilo ({citizen.fiscal_code_masked})."
        )
        return {"link_code": LINKED}


class ActionLinkDone(Action):
    """Close the linking: say what the citizen can do now, or why it stopped."""

    def name(self) -> str:
        return "action_link_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        outcome = tracker.get_slot("link_code")
        if outcome == BLOCKED:
            dispatcher.utter_message(
                text="Troppi codici sbagliati: per sicurezza riprova tra 15 minuti, oppure chiedi a una persona.",
                buttons=[MENU, PERSON],
            )
        elif outcome == LINKED:
            dispatcher.utter_message(
                text="Ora puoi presentare pratiche e seguirle da qui. Cosa vuoi fare?",
                buttons=[
                    {"title": "📄 Nuova pratica", "payload": "/practice_submit"},
                    {"title": "📂 Le mie pratiche", "payload": "/practice_list"},
                    MENU,
                ],
            )
        return [SlotSet("link_code", None)]


class ActionPrivacy(Action):
    """Say what is kept about the citizen, and unlink the chat when asked."""

    def name(self) -> str:
        return "action_privacy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        wants_unlink = any(
            e.get("entity") == "privacy_action" and e.get("value") == "unlink"
            for e in tracker.latest_message.get("entities") or []
        )
        try:
            citizen = await linked_citizen(tracker)
            if wants_unlink and citizen is not None:
                await (await backoffice()).unlink_channel(channel_user(tracker))
                dispatcher.utter_message(
                    text="Ho scollegato questa chat dal tuo profilo. Per ricollegarla ti servirà un nuovo codice dal portale.",
                    buttons=[MENU, PERSON],
                )
                return []
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        text = (
            "Sono un assistente automatico. Le tue pratiche e i tuoi dati restano negli archivi del Comune, "
            "non in questa chat. Per vederli, correggerli o chiederne la cancellazione scrivi all'ufficio "
            "protocollo (PEC comunecerveteri@pec.it)."
        )
        buttons = [MENU, PERSON]
        if citizen is not None:
            buttons.insert(0, {"title": "🔓 Scollega questa chat", "payload": '/privacy_request{"privacy_action": "unlink"}'})
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
