"""Answers given out of turn: a bare code, number or day is read by its shape and by what the
assistant asked last.

A citizen reading a code from a letter types just the code. Whatever the NLU made of it
(inform, or no intent at all), `action_out_of_turn` looks at the shape of the message and at
the last question: a link code links the chat, a day while booking goes to the booking, a
codice avviso after the taxes pays it, and a protocol number, codice fiscale or codice
avviso with no question open gets the things that can be done with it. When two intents
are close it asks "Intendevi A o B?"; anything else goes on to the usual answers.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import parsing
from actions.appointments.book import ActionAppointmentBook
from actions.common import MENU, PERSON, telegram_facts
from actions.fallback import ActionFallback
from actions.identity import BLOCKED, LINKED, ActionLinkDone, ValidateLinkForm
from actions.practices.manage import ActionHandleInform
from actions.taxes import MY_TAXES, ActionTaxPay, notice_number_in
from actions.when import rome_today, said_day

ACTION_OUT_OF_TURN = "action_out_of_turn"
# A message that is only the code: letters and digits in two fours, a dash or a digit in it.
_BARE_LINK_CODE = re.compile(r"[A-Za-z0-9]{4}\s*-?\s*[A-Za-z0-9]{4}")
_BARE_PROTOCOL = re.compile(r"(?:n\.?|numero|prot\.?|protocollo)?\s*(20\d{2}\s*/\s*\d{1,6}|\d{1,6}\s+del\s+20\d{2})", re.I)
_BARE_NOTICE = re.compile(r"(?:codice\s+avviso|avviso)?\s*[\d ]{18,26}", re.I)
_PAY = re.compile(r"\bpag(?:o|a|are|arlo|amento)\b", re.I)
_TRIM = " \t\n.,;:!?\"'«»"
# A clarifying question only between intents that are real guesses, not noise.
CLARIFY_FLOOR = 0.2
CLARIFY_GAP = 0.2
# What each intent means, said as the button the citizen taps in "Intendevi A o B?".
INTENT_LABELS: dict[str, str] = {
    "practice_submit": "📄 Presentare una pratica",
    "practice_status": "🔎 Sapere a che punto è una pratica",
    "practice_list": "📂 Vedere le mie pratiche",
    "report_issue": "🚧 Segnalare un problema",
    "tax_check": "💶 Vedere i miei tributi",
    "tax_pay": "💳 Pagare un tributo",
    "appointment_book": "📅 Prenotare allo sportello",
    "appointment_list": "🗓️ Vedere i miei appuntamenti",
    "appointment_cancel": "❌ Disdire un appuntamento",
    "appointment_move": "🔁 Spostare un appuntamento",
    "reminder_settings": "🔔 Promemoria dei pagamenti",
    "account_link": "🔗 Collegare la chat",
    "privacy_request": "🔒 I miei dati",
    "data_export": "📥 Scaricare i miei dati",
    "data_delete": "🗑️ Cancellare i miei dati",
    "human_handoff": "🙋 Parlare con una persona",
    "help": "❓ Le domande frequenti",
    "faq": "❓ Una domanda frequente",
    "main_menu": "🏠 Il menu",
}


def bare(text: str, pattern: re.Pattern[str]) -> bool:
    """Whether the whole message is one thing of that shape."""
    return pattern.fullmatch(text.strip(_TRIM)) is not None


def bare_link_code(text: str) -> str | None:
    """The link code when the message is only that, with a dash or a digit in it."""
    plain = text.strip(_TRIM)
    if not bare(plain, _BARE_LINK_CODE) or not ("-" in plain or any(c.isdigit() for c in plain)):
        return None
    return parsing.link_code(plain)


def last_question(events: list[dict[str, Any]]) -> str:
    """What the assistant said between the citizen's last message and this one (names and texts)."""
    said: list[str] = []
    users = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            users += 1
            if users == 2:
                break
        elif kind == "bot" and users == 1:
            name = str((event.get("metadata") or {}).get("utter_action") or "")
            said.append(f"{name} {event.get('text') or ''}")
    return " ".join(said).lower()


def first_message(events: list[dict[str, Any]]) -> bool:
    """Whether this is the first thing the citizen wrote (a /start, its greeting, aside)."""
    users = [e for e in events if e.get("event") == "user"]
    earlier = users[:-1]
    return all(str(e.get("text") or "").startswith("/") for e in earlier)


def asks_link_code(question: str) -> bool:
    return "codice di collegamento" in question or "utter_ask_link_code" in question


def asks_about_taxes(question: str) -> bool:
    return any(word in question for word in ("tribut", "avviso", "pagare", "pagamento", "utter_tax"))


def close_intents(latest_message: dict[str, Any]) -> tuple[str, str] | None:
    """The two best intents when they are close and both a real guess, with a label each."""
    ranking = [
        r for r in latest_message.get("intent_ranking") or []
        if r.get("name") != "nlu_fallback"
    ]
    if len(ranking) < 2:
        return None
    first, second = ranking[0], ranking[1]
    a, b = str(first.get("name")), str(second.get("name"))
    conf_a, conf_b = float(first.get("confidence") or 0), float(second.get("confidence") or 0)
    if a not in INTENT_LABELS or b not in INTENT_LABELS:
        return None
    if conf_b < CLARIFY_FLOOR or conf_a - conf_b > CLARIFY_GAP:
        return None
    return a, b


def words(intent: str) -> str:
    """The label without its emoji, lower case: «presentare una pratica»."""
    label = INTENT_LABELS[intent].split(" ", 1)[1]
    return label[:1].lower() + label[1:]


def clarify_buttons(a: str, b: str) -> list[dict[str, str]]:
    return [
        {"title": INTENT_LABELS[a], "payload": f"/{a}"},
        {"title": INTENT_LABELS[b], "payload": f"/{b}"},
    ]


def _with_slot(tracker: Tracker, name: str, value: Any) -> Tracker:
    copied = tracker.copy()
    copied.slots[name] = value
    return copied


def route(tracker: Tracker) -> str | None:
    """Where a bare answer goes, by its shape and the last question; None: no shape."""
    text = str(tracker.latest_message.get("text") or "")
    question = last_question(tracker.events)
    code = bare_link_code(text)
    if code and (asks_link_code(question) or first_message(tracker.events) or "-" in text):
        return "link"
    if tracker.get_slot("booking_open") and said_day(text, rome_today()) is not None:
        return "booking"
    # "voglio pagare l'avviso 3012 …": the number and the wish to pay say it all, whatever
    # the intent the NLU guessed for the words around a long number.
    if len(text) <= 160 and _PAY.search(text) and notice_number_in(text):
        return "tax_pay"
    notice = notice_number_in(text) if bare(text, _BARE_NOTICE) else None
    if notice:
        return "tax_pay" if asks_about_taxes(question) else "notice"
    if bare(text, _BARE_PROTOCOL) and parsing.protocol_number(text):
        return "protocol"
    if parsing.fiscal_code(text) and len(text.strip(_TRIM)) <= 20:
        return "fiscal_code"
    return None


class ActionOutOfTurn(Action):
    """Read a bare answer by its shape and by the last question; else go on as usual.

    The other actions are run from here, not queued after it: an action queued after this
    one would leave the turn in a state no rule knows, and the fallback would follow it.
    """

    def name(self) -> str:
        return ACTION_OUT_OF_TURN

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        handled = await self.by_shape(dispatcher, tracker, domain)
        if handled is not None:
            return handled
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "nlu_fallback":
            pair = close_intents(tracker.latest_message)
            if pair:
                a, b = pair
                dispatcher.utter_message(
                    text=f"Intendevi «{words(a)}» o «{words(b)}»?",
                    buttons=[*clarify_buttons(a, b), MENU, PERSON],
                )
                return []
            return await ActionFallback().run(dispatcher, tracker, domain)
        facts = telegram_facts(tracker)
        sent_by_the_channel = str(tracker.latest_message.get("text") or "").startswith("/")
        carries = tracker.latest_message.get("entities") or facts.get("upload") or facts.get("location")
        if not carries and not sent_by_the_channel:
            # Read as an answer, but it carries nothing an answer would: not understood.
            return await ActionFallback().run(dispatcher, tracker, domain)
        return await ActionHandleInform().run(dispatcher, tracker, domain)

    async def by_shape(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        """The answer to a message read by its shape, or None when it has none of them."""
        text = str(tracker.latest_message.get("text") or "")
        where = route(tracker)
        if where == "link":
            return await self._link(str(bare_link_code(text)), dispatcher, tracker, domain)
        if where == "booking":
            return await ActionAppointmentBook().run(dispatcher, tracker, domain)
        if where == "tax_pay":
            return await ActionTaxPay().run(dispatcher, tracker, domain)
        notice = notice_number_in(text) if where == "notice" else None
        if notice:
            dispatcher.utter_message(
                text="Questo è il codice di un avviso di pagamento pagoPA. Vuoi pagarlo?",
                buttons=[
                    {"title": "💳 Paga questo avviso", "payload": f'/tax_pay{{"notice_number": "{notice}"}}'},
                    MY_TAXES, MENU, PERSON,
                ],
            )
            return []
        number = parsing.protocol_number(text) if where == "protocol" else None
        if number:
            dispatcher.utter_message(
                text=f"{number} è un numero di protocollo. Vuoi sapere a che punto è la pratica?",
                buttons=[
                    {"title": "🔎 A che punto è", "payload": f'/practice_status{{"protocol_number": "{number}"}}'},
                    {"title": "📂 Le mie pratiche", "payload": "/practice_list"},
                    MENU, PERSON,
                ],
            )
            return []
        if where == "fiscal_code":
            # Never written back: the chat shows a codice fiscale only masked.
            dispatcher.utter_message(
                text="Questo sembra un codice fiscale. Non serve scriverlo: collega la chat con il codice del portale "
                "del Comune (SPID o CIE) e so già chi sei. Cosa vuoi fare?",
                buttons=[
                    {"title": "🔗 Ho il codice", "payload": "/account_link"},
                    {"title": "📄 Nuova pratica", "payload": "/practice_submit"},
                    MENU, PERSON,
                ],
            )
            return []
        return None

    @staticmethod
    async def _link(
        code: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Link the chat as the link form would, and say what comes next."""
        result = await ValidateLinkForm().validate_link_code(code, dispatcher, tracker, domain)
        outcome = result.get("link_code")
        if outcome in (LINKED, BLOCKED):
            await ActionLinkDone().run(dispatcher, _with_slot(tracker, "link_code", outcome), domain)
        return [SlotSet("link_code", None)]
