"""A bare answer with no question open: a document for a pratica that waits for it, a type, a number."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import parsing
from actions.common import (
    MENU,
    PERSON,
    api,
    channel_user,
    entity,
    telegram_facts,
)
from actions.practices import texts
from actions.practices.form import ActionPrepareReport
from actions.practices.tracking import ActionPracticeStatus
from backend_client import (
    BackOfficeError,
    NotLinked,
)


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
        client = await api()
        try:
            practices = await client.practices.mine(channel_user(tracker))
            waiting = [p for p in practices if p.status == "integrazione_richiesta"]
            if not waiting:
                dispatcher.utter_message(
                    text=texts.NO_PRACTICE_WAITING,
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
            text=texts.DOCUMENT_ADDED.format(
                number=detail.protocol_number, status=detail.status_label, next_step=detail.next_step
            ),
            buttons=[{"title": "📂 Le mie pratiche", "payload": "/practice_list"}, MENU, PERSON],
        )
        return []


def _with_slot(tracker: Tracker, name: str, value: Any) -> Tracker:
    copied = tracker.copy()
    copied.slots[name] = value
    return copied
