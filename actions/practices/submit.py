"""Sending the confirmed pratica: one per draft, whatever the retries; the receipt."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    MENU,
    PERSON,
    TASK_DONE,
    api,
    channel_user,
)
from actions.practices import texts
from actions.practices.form import ME, forget_draft
from backend_client import (
    BackOfficeUnavailable,
    InvalidData,
    NotLinked,
    PracticeDetail,
)


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
        client = await api()
        try:
            answers = {name: value for name, value in draft["answers"].items() if value != ME}
            detail = await client.practices.submit(
                channel_user(tracker), draft["type"], answers, idempotency_key=draft["key"]
            )
        except BackOfficeUnavailable:
            dispatcher.utter_message(
                text=texts.SUBMIT_DOWN,
                buttons=[{"title": "🔁 Riprova l'invio", "payload": "/affirm"}, MENU, PERSON],
            )
            return [SlotSet("practice_pending", True)]
        except NotLinked:
            dispatcher.utter_message(response="utter_need_link")
            return [SlotSet("practice_pending", False)]
        except InvalidData as error:
            problems = "; ".join(error.fields.values()) or "alcuni dati non vanno bene"
            dispatcher.utter_message(text=texts.REJECTED.format(problems=problems))
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
            text=texts.ANYTHING_ELSE,
            buttons=[{"title": "📂 Le mie pratiche", "payload": "/practice_list"}, MENU, PERSON],
        )
        dispatcher.utter_message(json_message=TASK_DONE)  # the channel may offer the avvisi, once
        return forget_draft()
