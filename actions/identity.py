"""Who is writing: link the chat to the citizen with the portal's code, unlink, my data."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import parsing
from actions.common import MENU, PERSON, api, channel_user
from backend_client import (
    BackOfficeError,
    BackOfficeUnavailable,
    LinkCodeExpired,
    LinkCodeInvalid,
    LinkedCitizen,
    NotLinked,
    TooManyAttempts,
)
from sportello.settings import get_settings

BLOCKED = "__too_many_attempts__"
LINKED = "__linked__"


async def linked_citizen(tracker: Tracker) -> LinkedCitizen | None:
    """The citizen linked to this chat, or None; BackOfficeError if the back office is down."""
    client = await api()
    try:
        return await client.identity.me(channel_user(tracker))
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
        client = await api()
        try:
            citizen = await client.identity.link(channel_user(tracker), code)
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


EXPORT = {"title": "📥 Scarica", "payload": "/data_export"}
DELETE = {"title": "🗑️ Cancella", "payload": "/data_delete"}
CONFIRM_DELETE = "confirm"


def privacy_action(tracker: Tracker) -> str | None:
    """The privacy_action entity a button sent (unlink, confirm), if any."""
    return next(
        (
            str(e.get("value"))
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") == "privacy_action"
        ),
        None,
    )


class ActionPrivacy(Action):
    """Say what the assistant keeps about the citizen and offer the copy, the erasure, unlinking."""

    def name(self) -> str:
        return "action_privacy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            citizen = await linked_citizen(tracker)
            if privacy_action(tracker) == "unlink" and citizen is not None:
                await (await api()).identity.unlink(channel_user(tracker))
                dispatcher.utter_message(
                    text="Ho scollegato questa chat dal tuo profilo. Per ricollegarla ti servirà un nuovo codice dal portale.",
                    buttons=[MENU, PERSON],
                )
                return []
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        days = get_settings().conversation_retention_days
        text = (
            "🔒 I tuoi dati. Sono un assistente automatico: tengo la nostra conversazione per "
            f"{days} giorni e, se parli con una persona, la richiesta e i messaggi scambiati. Le pratiche, "
            "i pagamenti e le prenotazioni sono negli archivi del Comune.\n"
            "📥 Scarica: ti mando una copia di tutto, in PDF e in JSON.\n"
            "🗑️ Cancella: cancello la conversazione e quello che serve solo all'assistente; "
            "le pratiche restano all'ufficio, come chiede la legge.\n"
            "Per correggere i tuoi dati scrivi all'ufficio protocollo (PEC comunecerveteri@pec.it)."
        )
        buttons = [EXPORT, DELETE, MENU, PERSON]
        if citizen is not None:
            buttons.insert(2, {"title": "🔓 Scollega questa chat", "payload": '/privacy_request{"privacy_action": "unlink"}'})
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionDataExport(Action):
    """Ask the channel for the citizen's copy: the bot holds the conversation and the tickets."""

    def name(self) -> str:
        return "action_data_export"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(json_message={"my_data": "export"})
        return []


class ActionDataDelete(Action):
    """Ask, saying what goes and what stays; once ✅ Sì, cancella is pressed (the button's
    entity, never a typed yes), ask the channel to erase."""

    def name(self) -> str:
        return "action_data_delete"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if privacy_action(tracker) == CONFIRM_DELETE:
            # The bot erases after Rasa has saved this turn, so none of it is left.
            dispatcher.utter_message(json_message={"my_data": "erase"})
            return []
        dispatcher.utter_message(
            text=(
                "Vuoi cancellare i tuoi dati dall'assistente? Cancello la nostra conversazione, le richieste "
                "a una persona e i file che non fanno parte di una pratica; se la chat è collegata al tuo "
                "profilo, la scollego.\n"
                "Le pratiche, i pagamenti e le prenotazioni restano all'ufficio: la legge chiede al Comune "
                "di conservarli. Per cancellare tocca «✅ Sì, cancella»."
            ),
            buttons=[
                {"title": "✅ Sì, cancella", "payload": f'/data_delete{{"privacy_action": "{CONFIRM_DELETE}"}}'},
                {"title": "❌ No", "payload": "/deny"},
                MENU,
                PERSON,
            ],
        )
        return []
