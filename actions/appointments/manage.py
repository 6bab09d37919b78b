"""The citizen's bookings: the list, and cancelling one (moving goes back through booking)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments.book import MY_BOOKINGS, appointment_line, payload
from actions.common import MENU, PERSON, api, channel_user, entity, kind_when_unavailable
from backend_client import (
    NotFound,
)
from sportello.clock import ROME
from sportello.formatting import clock, short_day


class ActionAppointmentList(Action):
    """The citizen's upcoming appointments, each with move and cancel buttons."""

    def name(self) -> str:
        return "action_appointment_list"

    @kind_when_unavailable()
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        mine = await (await api()).appointments.mine(channel_user(tracker))
        closing: list[EventType] = [SlotSet("booking_open", False)]
        if not mine:
            dispatcher.utter_message(
                text="Non hai appuntamenti prenotati.",
                buttons=[{"title": "📅 Prenota", "payload": "/appointment_book"}, MENU, PERSON],
            )
            return closing
        for appointment in mine:
            dispatcher.utter_message(
                text=appointment_line(appointment),
                buttons=[
                    {"title": "🔁 Sposta", "payload": payload("appointment_move", appointment_code=appointment.code)},
                    {"title": "❌ Disdici", "payload": payload("appointment_cancel", appointment_code=appointment.code)},
                ],
            )
        dispatcher.utter_message(text="Vuoi fare altro?", buttons=[MENU, PERSON])
        return closing


class ActionAppointmentCancel(Action):
    """Cancel an appointment after an explicit yes."""

    def name(self) -> str:
        return "action_appointment_cancel"

    @kind_when_unavailable()
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        user = channel_user(tracker)
        code = entity(tracker, "appointment_code")
        confirmed = entity(tracker, "appointment_confirm") == "yes"
        closing: list[EventType] = [SlotSet("booking_open", False)]
        try:
            client = await api()
            mine = await client.appointments.mine(user)
            if not code:
                if len(mine) != 1:
                    if not mine:
                        dispatcher.utter_message(text="Non hai appuntamenti da disdire.", buttons=[MENU, PERSON])
                    else:
                        dispatcher.utter_message(
                            text="Quale appuntamento vuoi disdire?",
                            buttons=[
                                {"title": f"❌ {a.service_name}, {short_day(a.starts_at.astimezone(ROME).date())} {clock(a.starts_at.astimezone(ROME))}",
                                 "payload": payload("appointment_cancel", appointment_code=a.code)}
                                for a in mine
                            ] + [MENU, PERSON],
                        )
                    return closing
                code = mine[0].code
            appointment = next((a for a in mine if a.code == code), None)
            if appointment is None:
                dispatcher.utter_message(text="Non trovo questo appuntamento tra i tuoi.", buttons=[MY_BOOKINGS, MENU, PERSON])
                return closing
            if not confirmed:
                dispatcher.utter_message(
                    text=f"Vuoi disdire questo appuntamento?\n{appointment_line(appointment)}",
                    buttons=[
                        {"title": "✅ Sì, disdici", "payload": payload("appointment_cancel", appointment_code=code, appointment_confirm="yes")},
                        {"title": "⬅️ No, tienilo", "payload": "/appointment_list"},
                        MENU,
                        PERSON,
                    ],
                )
                return closing
            await client.appointments.cancel(user, code)
        except NotFound:
            dispatcher.utter_message(text="Non trovo questo appuntamento tra i tuoi.", buttons=[MY_BOOKINGS, MENU, PERSON])
            return closing
        dispatcher.utter_message(
            text=f"Fatto: l'appuntamento {code} è disdetto. Il posto ora è libero per altri.",
            buttons=[{"title": "📅 Prenota di nuovo", "payload": "/appointment_book"}, MENU, PERSON],
        )
        # Booking again is a new request, even with an old ✅ button.
        return [*closing, SlotSet("booking_request", None)]
