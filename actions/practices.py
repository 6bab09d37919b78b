"""Pratiche from the chat: a form built from the back office's catalogue, submission, tracking."""

from __future__ import annotations

import time
import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import parsing
from actions.backoffice import backoffice
from actions.identity import MENU, PERSON, TASK_DONE, channel_user, linked_citizen
from actions.when import rome_today
from backend_client import (
    BackOfficeError,
    BackOfficeUnavailable,
    InvalidData,
    NotLinked,
    PracticeDetail,
    PracticeField,
    PracticeNotFound,
    PracticeSummary,
    PracticeType,
)

ANONYMOUS_TYPES = frozenset({"segnalazione"})
# Typed or tapped, these always leave a question open (rules in nlu/data/rules/practices.yml).
WAYS_OUT = frozenset({"cancel", "main_menu", "human_handoff"})
ME = "__me__"
CANCEL = {"title": "✖️ Annulla", "payload": "/cancel"}
_CATALOGUE_TTL_SECONDS = 60.0
_catalogue: tuple[float, dict[str, PracticeType]] | None = None


async def catalogue() -> dict[str, PracticeType]:
    """The pratica types by code, refreshed every minute: adding one is data, not code."""
    global _catalogue
    if _catalogue is None or time.monotonic() - _catalogue[0] > _CATALOGUE_TTL_SECONDS:
        try:
            types = await (await backoffice()).practices.types()
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
            dispatcher.utter_message(text="Questo tipo di pratica non lo conosco. Scegline uno dall'elenco.")
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
            dispatcher.utter_message(
                text="Mandami il documento con la graffetta 📎: PDF, JPG o PNG, al massimo 20 MB."
            )
            return None
        if field.kind == "location":
            place = facts.get("location")
            if isinstance(place, dict) and "latitude" in place:
                point = {"latitude": place["latitude"], "longitude": place["longitude"]}
                return point, f"📍 {point['latitude']:.5f}, {point['longitude']:.5f}"
            dispatcher.utter_message(
                text="Mandami la posizione: premi la graffetta 📎, poi «Posizione», e scegli il punto sulla mappa."
            )
            return None
        if facts.get("upload") or facts.get("location"):
            dispatcher.utter_message(text="Qui mi serve una risposta scritta.")
            return None
        if field.kind == "choice":
            picked = str(choice or text)
            for option in field.choices:
                if option.lower() == picked.lower():
                    return option, option
            dispatcher.utter_message(text="Scegli una delle risposte con i pulsanti, per favore.")
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
                dispatcher.utter_message(
                    text="Questo codice fiscale non sembra giusto: sono 16 lettere e numeri, come RSSMRA50C12C552D. Controllalo e riscrivilo."
                )
                return None
            return code, code
        if field.kind == "date":
            day = parsing.italian_date(text, rome_today())
            if day is None:
                dispatcher.utter_message(text="Non ho capito la data. Scrivila così: 15/12/2026, oppure «domani».")
                return None
            return day.isoformat(), parsing.italian_date_text(day)
        if not text or text.startswith("/"):
            dispatcher.utter_message(text="Scrivimi la risposta, per favore.")
            return None
        if len(text) > 2000:
            dispatcher.utter_message(text="È un po' lungo: riassumilo in meno di 2000 caratteri, per favore.")
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
        dispatcher.utter_message(text="Va bene, non invio nulla. Puoi correggere un dato o annullare.")
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
        dispatcher.utter_message(text="Che pratica vuoi presentare?", buttons=[*buttons, CANCEL, MENU, PERSON])
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
        lines = [f"Ecco il riepilogo: {practice_type.name}"]
        edits = []
        for field in practice_type.fields:
            shown = draft.get("shown", {}).get(field.name, "—")
            lines.append(f"• {field.label}: {shown}")
            edits.append({"title": f"✏️ {field.label[:40]}", "payload": f'/inform{{"practice_edit": "{field.name}"}}'})
        lines.append("Confermi l'invio?")
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


def _forget_draft() -> list[EventType]:
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
        return _forget_draft()


def receipt(detail: PracticeDetail) -> str:
    return (
        f"✅ Pratica inviata. Numero di protocollo: {detail.protocol_number}\n"
        f"{detail.practice_type_name} — stato: {detail.status_label}.\n"
        f"{detail.next_step}\n"
        "Conserva il numero: ti servirà per seguire la pratica."
    )


class ActionSubmitPractice(Action):
    """Send the confirmed draft; if the back office is down, keep it for a retry."""

    def name(self) -> str:
        return "action_submit_practice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        draft = tracker.get_slot("practice_draft")
        if not draft or tracker.get_slot("practice_confirm") is not True:
            return []
        client = await backoffice()
        try:
            answers = {name: value for name, value in draft["answers"].items() if value != ME}
            detail = await client.practices.submit(
                channel_user(tracker), draft["type"], answers, idempotency_key=draft["key"]
            )
        except BackOfficeUnavailable:
            dispatcher.utter_message(
                text="Il sistema del Comune non risponde, la pratica non è ancora partita. Ho tenuto tutti i dati: riprova tra poco.",
                buttons=[{"title": "🔁 Riprova l'invio", "payload": "/affirm"}, MENU, PERSON],
            )
            return [SlotSet("practice_pending", True)]
        except NotLinked:
            dispatcher.utter_message(response="utter_need_link")
            return [SlotSet("practice_pending", False)]
        except InvalidData as error:
            problems = "; ".join(error.fields.values()) or "alcuni dati non vanno bene"
            dispatcher.utter_message(text=f"Il Comune non ha accettato la pratica: {problems}. Correggi e riprova.")
            return [SlotSet("practice_confirm", None), SlotSet("practice_pending", False)]
        dispatcher.utter_message(text=receipt(detail))
        if detail.document is not None:
            dispatcher.utter_message(
                json_message={
                    "document_url": detail.document.download_url,
                    "filename": detail.document.filename,
                    "caption": f"Codice di verifica: {detail.document.verification_code}",
                }
            )
        dispatcher.utter_message(
            text="Posso aiutarti in altro?",
            buttons=[{"title": "📂 Le mie pratiche", "payload": "/practice_list"}, MENU, PERSON],
        )
        dispatcher.utter_message(json_message=TASK_DONE)  # the channel may offer the avvisi, once
        return _forget_draft()


def describe(detail: PracticeDetail) -> str:
    lines = [
        f"Pratica {detail.protocol_number} — {detail.practice_type_name}",
        f"Stato: {detail.status_label} (aggiornata il {detail.updated_at:%d/%m/%Y})",
    ]
    if detail.requested_documents:
        lines.append(f"L'ufficio chiede: {detail.requested_documents}")
    lines.append(f"Cosa succede ora: {detail.next_step}")
    if detail.history:
        lines.append("Storia:")
        lines += [f"• {h.at:%d/%m/%Y} {h.status_label}" + (f" — {h.note}" if h.note else "") for h in detail.history]
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
            dispatcher.utter_message(text="Il numero di protocollo è fatto così: 2026/000123. Riprova.")
        return {"protocol_number": number}


# Protocol numbers follow each other and a codice fiscale can be computed from a name: the
# status goes only to the chat linked to the owner, whatever else the asker knows.
NOT_LINKED_STATUS = (
    "Per proteggere i dati di chi l'ha presentata, lo stato di una pratica lo dico solo nella "
    "chat collegata a quella persona. Se la pratica è tua, collega questa chat: accedi al portale "
    "del Comune con SPID o CIE, prendi il codice di collegamento e scrivimelo qui."
)
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
            practices = await (await backoffice()).practices.mine(channel_user(tracker))
        except BackOfficeError:
            # Not linked, or the back office is down: the typed question still works.
            practices = []
        if not practices:
            dispatcher.utter_message(response="utter_ask_protocol_number")
            return []
        dispatcher.utter_message(
            text="Quale pratica vuoi seguire? Toccala qui sotto, oppure scrivimi il numero di protocollo "
            "(per esempio 2026/000123).",
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
            detail = await (await backoffice()).practices.get(channel_user(tracker), number)
        except NotLinked:
            # Whatever the number: nothing tells whether it exists or whose it is.
            dispatcher.utter_message(text=NOT_LINKED_STATUS, buttons=[LINK_BUTTON, MENU, PERSON])
            return forget
        except PracticeNotFound:
            # The same words for a number that does not exist and for someone else's.
            dispatcher.utter_message(
                text=f"Non trovo una tua pratica con il numero {number}. Controlla il numero: "
                "se l'ha presentata un'altra persona, può seguirla solo lei, dalla sua chat collegata.",
                buttons=[{"title": "🔎 Un altro numero", "payload": "/practice_status"}, MENU, PERSON],
            )
            return forget
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return forget
        buttons = [{"title": "📂 Le mie pratiche", "payload": "/practice_list"}, MENU, PERSON]
        if detail.status == "integrazione_richiesta":
            buttons.insert(0, {"title": "ℹ️ Come mando il documento", "payload": "/help"})
            dispatcher.utter_message(text=describe(detail) + "\nMandami qui il documento con la graffetta 📎.", buttons=buttons)
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
            practices = await (await backoffice()).practices.mine(channel_user(tracker))
        except NotLinked:
            dispatcher.utter_message(response="utter_need_link")
            return []
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        if not practices:
            dispatcher.utter_message(
                text="Non hai pratiche presentate.",
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


class ActionHandleInform(Action):
    """A file, a place or a bare answer with no question open: use it if it has an obvious home."""

    def name(self) -> str:
        return "action_handle_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        upload = telegram_facts(tracker).get("upload")
        if isinstance(upload, dict) and upload.get("upload_id"):
            return await self._attach(upload, dispatcher, tracker)
        if entity(tracker, "practice_type"):
            # "vorrei un certificato di residenza" reads like a bare answer: start that pratica.
            return [FollowupAction("practice_form")]
        if entity(tracker, "issue_category"):
            return [*await ActionPrepareReport().run(dispatcher, tracker, domain), FollowupAction("practice_form")]
        number = parsing.protocol_number(str(entity(tracker, "protocol_number") or ""))
        if number:
            return await ActionPracticeStatus().run(dispatcher, _with_slot(tracker, "protocol_number", number), domain)
        dispatcher.utter_message(response="utter_inform_out_of_context")
        return []

    async def _attach(
        self, upload: dict[str, Any], dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        client = await backoffice()
        try:
            practices = await client.practices.mine(channel_user(tracker))
            waiting = [p for p in practices if p.status == "integrazione_richiesta"]
            if not waiting:
                dispatcher.utter_message(
                    text="Ho ricevuto il file, ma nessuna tua pratica aspetta documenti. Se vuoi presentarne una nuova, inizia da qui.",
                    buttons=[{"title": "📄 Nuova pratica", "payload": "/practice_submit"}, MENU, PERSON],
                )
                return []
            detail = await client.practices.attach(channel_user(tracker), waiting[0].protocol_number, upload["upload_id"])
        except NotLinked:
            dispatcher.utter_message(response="utter_inform_out_of_context")
            return []
        except BackOfficeError:
            dispatcher.utter_message(response="utter_backoffice_down")
            return []
        dispatcher.utter_message(
            text=f"Grazie, ho aggiunto il documento alla pratica {detail.protocol_number}. Ora è «{detail.status_label}». {detail.next_step}",
            buttons=[{"title": "📂 Le mie pratiche", "payload": "/practice_list"}, MENU, PERSON],
        )
        return []


def _with_slot(tracker: Tracker, name: str, value: Any) -> Tracker:
    copied = tracker.copy()
    copied.slots[name] = value
    return copied
