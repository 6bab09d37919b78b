"""The pratica form: its questions come from the back office's catalogue; back, skip, cancel."""

from __future__ import annotations

import time
import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import parsing
from actions.common import (
    CANCEL,
    MENU,
    PERSON,
    api,
    entity,
    just_spoke,
    telegram_facts,
)
from actions.identity import linked_citizen
from actions.practices import texts
from actions.when import rome_today
from backend_client import (
    BackOfficeError,
    PracticeField,
    PracticeType,
)
from sportello.formatting import numeric_date

ANONYMOUS_TYPES = frozenset({"segnalazione"})
# Typed or tapped, these always leave a question open (rules in nlu/data/rules/practices.yml).
WAYS_OUT = frozenset({"cancel", "main_menu", "human_handoff"})
ME = "__me__"
_CATALOGUE_TTL_SECONDS = 60.0
_catalogue: tuple[float, dict[str, PracticeType]] | None = None


async def catalogue() -> dict[str, PracticeType]:
    """The pratica types by code, refreshed every minute: adding one is data, not code."""
    global _catalogue
    if _catalogue is None or time.monotonic() - _catalogue[0] > _CATALOGUE_TTL_SECONDS:
        try:
            types = await (await api()).practices.types()
        except BackOfficeError:
            if _catalogue is None:
                raise
            # A known catalogue is better than none: a draft can still reach its summary.
            return _catalogue[1]
        _catalogue = (time.monotonic(), {t.code: t for t in types})
    return _catalogue[1]


def resolve_type(said: str, types: dict[str, PracticeType]) -> str | None:
    """The catalogue code for what the citizen named: a code, or words of a type's name."""
    value = said.strip().lower()
    if not value:
        return None
    for candidate in (value, value.replace(" ", "_"), value.replace("di ", "").replace(" ", "_")):
        if candidate in types:
            return candidate
    matches = [code for code, t in types.items() if len(value) >= 3 and value in t.name.lower()]
    return matches[0] if len(matches) == 1 else None

def new_draft(code: str) -> dict[str, Any]:
    # The idempotency key is born with the draft: every retry of this draft is one pratica.
    return {"type": code, "answers": {}, "shown": {}, "skipped": [], "key": str(uuid.uuid4())}


def next_field(draft: dict[str, Any] | None, practice_type: PracticeType | None) -> PracticeField | None:
    if not draft or practice_type is None:
        return None
    for field in practice_type.fields:
        if field.name not in draft["answers"] and field.name not in draft["skipped"]:
            return field
    return None


def last_answered(draft: dict[str, Any] | None, practice_type: PracticeType | None) -> PracticeField | None:
    """The field answered (or skipped) last: fields are asked in the catalogue's order."""
    if not draft or practice_type is None:
        return None
    done = [f for f in practice_type.fields if f.name in draft["answers"] or f.name in draft["skipped"]]
    return done[-1] if done else None


def forget(draft: dict[str, Any], name: str) -> dict[str, Any]:
    """The draft without one field's answer: the form asks it again."""
    return {
        **draft,
        "answers": {k: v for k, v in draft["answers"].items() if k != name},
        "shown": {k: v for k, v in draft["shown"].items() if k != name},
        "skipped": [k for k in draft["skipped"] if k != name],
    }


BACK = {"title": "⬅️ Indietro", "payload": '/inform{"practice_back": true}'}


def question_of(field: PracticeField) -> str:
    question = getattr(field, "question", None) or f"{field.label}?"
    return str(question)


class ValidatePracticeForm(FormValidationAction):
    """Ask the fields of the chosen pratica type one at a time and check each answer."""

    def name(self) -> str:
        return "validate_practice_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        draft = tracker.get_slot("practice_draft")
        code = tracker.get_slot("practice_type")
        if not code or not draft or draft.get("type") != code:
            return ["practice_type", "practice_answer", "practice_confirm"]
        try:
            practice_type = (await catalogue()).get(code)
        except BackOfficeError:
            return ["practice_type", "practice_answer", "practice_confirm"]
        if next_field(draft, practice_type) is not None:
            return ["practice_type", "practice_answer", "practice_confirm"]
        return ["practice_type", "practice_confirm"]

    async def extract_practice_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take what the citizen just said as the answer, unless it leaves the question."""
        if tracker.get_slot("requested_slot") != "practice_answer" or not just_spoke(tracker):
            return {}
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        text = str(message.get("text") or "")
        if intent in WAYS_OUT or entity(tracker, "practice_type"):
            # Leaving, or naming another pratica (the practice_type mapping takes that).
            return {}
        if text.startswith("/") and intent != "inform":
            # A button of another flow (💶 Tributi sends /tax_check): not an answer. Typed
            # words are, whatever the NLU reads in them: "trasloco" is practice_submit to it.
            return {}
        return {"practice_answer": text}

    async def validate_practice_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = str(entity(tracker, "practice_choice") or value or "")
        try:
            types = await catalogue()
            citizen = await linked_citizen(tracker)
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return {"practice_type": None, "requested_slot": None}
        code = resolve_type(code, types) or ""
        if not code:
            dispatcher.utter_message(text=texts.UNKNOWN_TYPE)
            return {"practice_type": None}
        if citizen is None and code not in ANONYMOUS_TYPES:
            dispatcher.utter_message(response="utter_need_link")
            return {"practice_type": None, "requested_slot": None}
        draft = tracker.get_slot("practice_draft")
        if not draft or draft.get("type") != code:
            draft = new_draft(code)
        return {"practice_type": code, "practice_draft": draft, "practice_answer": None}

    async def validate_practice_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        draft = dict(tracker.get_slot("practice_draft") or {})
        try:
            practice_type = (await catalogue()).get(str(tracker.get_slot("practice_type")))
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return {"practice_answer": None, "requested_slot": None}
        if entity(tracker, "practice_back"):
            previous = last_answered(draft, practice_type)
            if previous is None:
                # Back from the first question: choose the pratica type again.
                return {"practice_answer": None, "practice_type": None, "practice_draft": None}
            return {"practice_answer": None, "practice_draft": forget(draft, previous.name)}
        field = next_field(draft, practice_type)
        if field is None:
            return {"practice_answer": None}
        if entity(tracker, "practice_skip") and not field.required:
            draft["skipped"] = [*draft["skipped"], field.name]
            return {"practice_answer": None, "practice_draft": draft}
        answer = await self._read(field, value, dispatcher, tracker)
        if answer is None:
            return {"practice_answer": None}
        stored, shown = answer
        draft["answers"] = {**draft["answers"], field.name: stored}
        draft["shown"] = {**draft["shown"], field.name: shown}
        return {"practice_answer": None, "practice_draft": draft}

    async def _read(
        self, field: PracticeField, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> tuple[Any, str] | None:
        """The answer as the back office wants it and as the citizen reads it, or None (said why)."""
        text = str(value or "").strip()
        choice = entity(tracker, "practice_choice")
        facts = telegram_facts(tracker)
        if field.kind == "attachment":
            upload = facts.get("upload")
            if isinstance(upload, dict) and upload.get("upload_id"):
                return upload["upload_id"], f"📎 {upload.get('filename') or 'file'}"
            dispatcher.utter_message(text=texts.SEND_DOCUMENT)
            return None
        if field.kind == "location":
            place = facts.get("location")
            if isinstance(place, dict) and "latitude" in place:
                point = {"latitude": place["latitude"], "longitude": place["longitude"]}
                return point, f"📍 {point['latitude']:.5f}, {point['longitude']:.5f}"
            dispatcher.utter_message(text=texts.SEND_LOCATION)
            return None
        if facts.get("upload") or facts.get("location"):
            dispatcher.utter_message(text=texts.WRITTEN_ANSWER)
            return None
        if field.kind == "choice":
            picked = str(choice or text)
            for option in field.choices:
                if option.lower() == picked.lower():
                    return option, option
            dispatcher.utter_message(text=texts.PICK_A_BUTTON)
            return None
        if field.kind == "fiscal_code":
            if choice == ME:
                # The back office fills in the linked citizen's own code: the full code
                # never travels through the chat.
                citizen = await linked_citizen(tracker)
                if citizen is not None:
                    return ME, f"il tuo ({citizen.fiscal_code_masked})"
            code = parsing.fiscal_code(text)
            if code is None:
                dispatcher.utter_message(text=texts.BAD_FISCAL_CODE)
                return None
            return code, code
        if field.kind == "date":
            day = parsing.italian_date(text, rome_today())
            if day is None:
                dispatcher.utter_message(text=texts.BAD_DATE)
                return None
            return day.isoformat(), numeric_date(day)
        if not text or text.startswith("/"):
            dispatcher.utter_message(text=texts.WRITE_ANSWER)
            return None
        if len(text) > 2000:
            dispatcher.utter_message(text=texts.TOO_LONG)
            return None
        return text, text

    async def validate_practice_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"practice_confirm": True}
        draft = dict(tracker.get_slot("practice_draft") or {})
        if isinstance(value, str) and value in draft.get("answers", {}) | {k: 1 for k in draft.get("skipped", [])}:
            # Correct one field: forget its answer, the form asks it again, then the summary.
            return {"practice_confirm": None, "practice_answer": None, "practice_draft": forget(draft, value)}
        dispatcher.utter_message(text=texts.NOT_SENT)
        return {"practice_confirm": None}


class ActionAskPracticeType(Action):
    """Offer the pratica types of the catalogue as buttons."""

    def name(self) -> str:
        return "action_ask_practice_type"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            types = await catalogue()
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        buttons = [
            {"title": t.name.split(" – ")[0], "payload": f'/inform{{"practice_choice": "{t.code}"}}'}
            for t in types.values()
        ]
        dispatcher.utter_message(text=texts.WHICH_TYPE, buttons=[*buttons, CANCEL, MENU, PERSON])
        return []


class ActionAskPracticeAnswer(Action):
    """Ask the next field, with buttons wherever the answer is a choice."""

    def name(self) -> str:
        return "action_ask_practice_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            practice_type = (await catalogue()).get(str(tracker.get_slot("practice_type")))
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        field = next_field(tracker.get_slot("practice_draft"), practice_type)
        if field is None:
            return []
        buttons: list[dict[str, str]] = []
        if field.kind == "choice":
            buttons = [{"title": c, "payload": f'/inform{{"practice_choice": "{c}"}}'} for c in field.choices]
        elif field.kind == "fiscal_code":
            buttons = [{"title": "👤 Sono io", "payload": f'/inform{{"practice_choice": "{ME}"}}'}]
        elif field.kind == "date":
            buttons = [
                {"title": "Oggi", "payload": "oggi"},
                {"title": "Domani", "payload": "domani"},
            ]
        if not field.required:
            buttons.append({"title": "⏭️ Salta", "payload": '/inform{"practice_skip": true}'})
        dispatcher.utter_message(text=question_of(field), buttons=[*buttons, BACK, CANCEL, MENU, PERSON])
        return []


class ActionAskPracticeConfirm(Action):
    """Show the summary: confirm, correct any field, or cancel."""

    def name(self) -> str:
        return "action_ask_practice_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        draft = tracker.get_slot("practice_draft") or {}
        try:
            practice_type = (await catalogue()).get(str(tracker.get_slot("practice_type")))
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        if practice_type is None:
            return []
        lines = [texts.SUMMARY.format(name=practice_type.name)]
        edits = []
        for field in practice_type.fields:
            shown = draft.get("shown", {}).get(field.name, "—")
            lines.append(f"• {field.label}: {shown}")
            edits.append({"title": f"✏️ {field.label[:40]}", "payload": f'/inform{{"practice_edit": "{field.name}"}}'})
        lines.append(texts.CONFIRM)
        previous = last_answered(draft, practice_type)
        back = (
            [{"title": "⬅️ Indietro", "payload": f'/inform{{"practice_edit": "{previous.name}"}}'}]
            if previous is not None
            else []
        )
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[{"title": "✅ Confermo e invio", "payload": "/affirm"}, *edits, *back, CANCEL, MENU, PERSON],
        )
        return []


class ActionPrepareReport(Action):
    """A report of a problem in town is a `segnalazione`: start it, with the category if said."""

    def name(self) -> str:
        return "action_prepare_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        draft = new_draft("segnalazione")
        category = entity(tracker, "issue_category")
        if category:
            draft["answers"]["category"] = category
            draft["shown"]["category"] = category
        return [SlotSet("practice_type", "segnalazione"), SlotSet("practice_draft", draft)]


def forget_draft() -> list[EventType]:
    return [
        SlotSet("practice_type", None),
        SlotSet("practice_draft", None),
        SlotSet("practice_answer", None),
        SlotSet("practice_confirm", None),
        SlotSet("practice_pending", False),
    ]


class ActionCancelPractice(Action):
    """Drop the draft being written; what was already submitted stays."""

    def name(self) -> str:
        return "action_cancel_practice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_practice_cancelled")
        return forget_draft()
