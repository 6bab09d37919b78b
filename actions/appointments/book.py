"""Sportello from the chat: book, move and cancel a counter appointment, by buttons or typing.

Every button carries what was chosen so far (service, day, time, the booking being moved), so
each step is stateless and "back" is the previous step's button. Slots keep only what a typed
answer needs: the service and the booking being moved.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import MENU, PERSON, TASK_DONE, api, channel_user, entity, kind_when_unavailable
from actions.when import Wanted, parse_when
from backend_client import (
    AlreadyBooked,
    Appointment,
    AppointmentSlot,
    BackOfficeClient,
    CounterService,
    NotFound,
    SlotClosed,
    SlotTaken,
)
from sportello.clock import PROCESS_CLOCK, ROME
from sportello.formatting import clock, euro, long_date, short_day

MY_BOOKINGS = {"title": "📅 I miei appuntamenti", "payload": "/appointment_list"}
_MAX_TIME_BUTTONS = 8
_MORNING_ENDS = time(13, 0)


def payload(intent: str, **entities: str) -> str:
    """A button's message to Rasa: the intent and the non-empty choices made so far."""
    chosen = {k: v for k, v in entities.items() if v}
    return f"/{intent}{json.dumps(chosen, ensure_ascii=False)}" if chosen else f"/{intent}"


def when_text(starts_at: datetime) -> str:
    local = starts_at.astimezone(ROME)
    return f"{long_date(local.date())} alle {clock(local)}"


def slot_button(service: str, slot: AppointmentSlot, code: str | None) -> dict[str, str]:
    local = slot.starts_at.astimezone(ROME)
    return {
        "title": f"🕘 {short_day(local.date())}, {clock(local)}",
        "payload": payload("appointment_book", service=service, appointment_slot=local.isoformat(), appointment_code=code or ""),
    }


def requirements_text(service: CounterService) -> str | None:
    """What to bring and what it costs, from the back office's data."""
    if not service.requirements and service.fee_cents is None:
        return None
    lines = [f"Per {service.name} porta con te:"]
    lines += [f"• {item}" for item in service.requirements]
    if service.fee_cents is not None:
        fee = f"Costo: {euro(service.fee_cents)}"
        lines.append(f"{fee} ({service.fee_note})." if service.fee_note else f"{fee}.")
    return "\n".join(lines)


def ticket_caption(appointment: Appointment, moved: bool) -> str:
    head = "✅ Appuntamento spostato." if moved else "✅ Appuntamento prenotato."
    lines = [
        head,
        f"Codice: {appointment.code}",
        f"{appointment.service_name}",
        f"{when_text(appointment.starts_at).capitalize()}, sportello {appointment.desk}",
        f"Dove: {appointment.location}",
        "Mostra questo QR allo sportello. Ti scrivo un promemoria il giorno prima.",
    ]
    if appointment.requirements:
        lines.append("Porta: " + "; ".join(appointment.requirements) + ".")
    return "\n".join(lines)


class ActionAppointmentBook(Action):
    """One step of booking (or moving) an appointment: service → day → time → confirmation."""

    def name(self) -> str:
        return "action_appointment_book"

    @kind_when_unavailable()
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await self._step(dispatcher, tracker)

    async def _step(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        client = await api()
        user = channel_user(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        typed = intent in ("inform", "affirm") or not str(tracker.latest_message.get("text") or "").startswith("/")
        code = entity(tracker, "appointment_code") or (
            tracker.get_slot("booking_code") if tracker.get_slot("booking_open") else None
        )
        if intent == "appointment_move" and not code:
            mine = await client.appointments.mine(user)
            if not mine:
                dispatcher.utter_message(text="Non hai appuntamenti da spostare.", buttons=[self._book_button(), MENU, PERSON])
                return [SlotSet("booking_open", False)]
            if len(mine) > 1:
                dispatcher.utter_message(
                    text="Quale appuntamento vuoi spostare?",
                    buttons=[
                        {"title": f"🔁 {a.service_name}, {short_day(a.starts_at.astimezone(ROME).date())} {clock(a.starts_at.astimezone(ROME))}",
                         "payload": payload("appointment_move", appointment_code=a.code)}
                        for a in mine
                    ] + [MENU, PERSON],
                )
                return []
            code = mine[0].code
        moving: Appointment | None = None
        if code:
            moving = next((a for a in await client.appointments.mine(user) if a.code == code), None)
            if moving is None:
                dispatcher.utter_message(text="Non trovo questo appuntamento tra i tuoi.", buttons=[MY_BOOKINGS, MENU, PERSON])
                return [SlotSet("booking_open", False), SlotSet("booking_code", None)]
        services = {s.code: s for s in await client.appointments.services()}
        service_code = moving.service_code if moving else entity(tracker, "service")
        if not service_code and tracker.get_slot("booking_open"):
            service_code = tracker.get_slot("booking_service")
        if not service_code or service_code not in services:
            if intent == "inform" and not service_code:
                # Not an answer to the booking: what the citizen said belongs elsewhere.
                return [SlotSet("booking_open", False), FollowupAction("action_handle_inform")]
            await client.identity.me(user)  # only a linked citizen can book: say so before any choice
            dispatcher.utter_message(
                text="Per quale ufficio vuoi l'appuntamento?",
                buttons=[
                    {"title": f"🏛️ {s.name}", "payload": payload("appointment_book", service=s.code)}
                    for s in services.values()
                ] + [MENU, PERSON],
            )
            return [SlotSet("booking_open", False)]
        service = services[service_code]
        code = moving.code if moving else None
        state: list[EventType] = [
            SlotSet("booking_open", True),
            SlotSet("booking_service", service.code),
            SlotSet("booking_code", code),
        ]
        slot_value = entity(tracker, "appointment_slot")
        confirmed = entity(tracker, "appointment_confirm") == "yes"
        if intent == "affirm" and tracker.get_slot("booking_slot"):
            slot_value, confirmed = tracker.get_slot("booking_slot"), True
        if slot_value:
            try:
                starts_at = datetime.fromisoformat(str(slot_value))
            except ValueError:
                starts_at = None
            if starts_at is None or starts_at.tzinfo is None:
                return state + await self._ask_day(dispatcher, client, service, code, "Non ho capito l'orario scelto.")
            if confirmed:
                return await self._book(dispatcher, tracker, client, service, starts_at, moving)
            return state + self._confirm(dispatcher, service, starts_at, moving)
        day_value = entity(tracker, "appointment_day")
        if day_value:
            try:
                day = date.fromisoformat(str(day_value))
            except ValueError:
                return state + await self._ask_day(dispatcher, client, service, code, "Non ho capito il giorno scelto.")
            return state + await self._ask_time(dispatcher, client, service, day, None, code)
        wanted = parse_when(str(tracker.latest_message.get("text") or ""), PROCESS_CLOCK.local_now()) if typed else None
        if wanted is not None:
            return state + await self._typed(dispatcher, client, service, wanted, moving)
        if intent == "inform":
            dispatcher.utter_message(
                text="Non ho capito il giorno. Scegli qui sotto, oppure scrivi per esempio «martedì alle 10» o «domani mattina».",
            )
            return state + await self._ask_day(dispatcher, client, service, code, None)
        intro = None
        if not moving:
            await client.identity.me(user)
            intro = requirements_text(service)
        else:
            dispatcher.utter_message(text=f"Spostiamo il tuo appuntamento di {when_text(moving.starts_at)}.")
        if intro:
            dispatcher.utter_message(text=intro)
        return state + await self._ask_day(dispatcher, client, service, code, None)

    @staticmethod
    def _book_button() -> dict[str, str]:
        return {"title": "📅 Prenota", "payload": "/appointment_book"}

    async def _ask_day(
        self,
        dispatcher: CollectingDispatcher,
        client: BackOfficeClient,
        service: CounterService,
        code: str | None,
        problem: str | None,
    ) -> list[EventType]:
        days = await client.appointments.available_days(service.code, count=5)
        back = {"title": "⬅️ Indietro", "payload": "/appointment_list" if code else "/appointment_book"}
        if not days:
            dispatcher.utter_message(
                text=f"{problem + ' ' if problem else ''}Non ci sono posti liberi per {service.name} nei prossimi giorni. Una persona del Comune può aiutarti.",
                buttons=[back, MENU, PERSON],
            )
            return [SlotSet("booking_slot", None)]
        question = "Che giorno preferisci? Puoi anche scriverlo, per esempio «martedì alle 10»."
        dispatcher.utter_message(
            text=f"{problem} {question}" if problem else question,
            buttons=[
                {"title": f"📅 {short_day(d.date).capitalize()}", "payload": payload("appointment_book", service=service.code, appointment_day=d.date.isoformat(), appointment_code=code or "")}
                for d in days
            ] + [back, MENU, PERSON],
        )
        return [SlotSet("booking_slot", None)]

    async def _ask_time(
        self,
        dispatcher: CollectingDispatcher,
        client: BackOfficeClient,
        service: CounterService,
        day: date,
        part_of_day: str | None,
        code: str | None,
    ) -> list[EventType]:
        found = await client.appointments.day_slots(service.code, day)
        slots = list(found.slots)
        if part_of_day == "mattina":
            slots = [s for s in slots if s.starts_at.astimezone(ROME).time() < _MORNING_ENDS]
        elif part_of_day == "pomeriggio":
            slots = [s for s in slots if s.starts_at.astimezone(ROME).time() >= _MORNING_ENDS]
        if found.closed or not slots:
            why = f"{long_date(day).capitalize()} l'ufficio è chiuso" + (f" ({found.reason})" if found.reason else "")
            if not found.closed:
                why = f"{long_date(day).capitalize()} non ci sono posti liberi" + (f" di {part_of_day}" if part_of_day else "")
            wanted_at = datetime.combine(day, time(14, 30) if part_of_day == "pomeriggio" else time(9, 0), ROME)
            return await self._offer_nearest(dispatcher, client, service, wanted_at, code, why)
        dispatcher.utter_message(
            text=f"{long_date(day).capitalize()}: a che ora?",
            buttons=[
                {"title": f"🕘 {clock(s.starts_at.astimezone(ROME))}", "payload": payload("appointment_book", service=service.code, appointment_slot=s.starts_at.astimezone(ROME).isoformat(), appointment_code=code or "")}
                for s in slots[:_MAX_TIME_BUTTONS]
            ]
            + [{"title": "⬅️ Indietro", "payload": payload("appointment_book", service=service.code, appointment_code=code or "")}, MENU, PERSON],
        )
        return [SlotSet("booking_slot", None)]

    async def _offer_nearest(
        self,
        dispatcher: CollectingDispatcher,
        client: BackOfficeClient,
        service: CounterService,
        at: datetime,
        code: str | None,
        why: str,
        alternatives: list[AppointmentSlot] | None = None,
    ) -> list[EventType]:
        nearest = alternatives if alternatives else await client.appointments.nearest_slots(service.code, at, limit=3)
        offer = "Questi sono i posti liberi più vicini:"
        if not nearest:
            # Nothing near that time (too far ahead, say): the first free places from today.
            nearest = await client.appointments.nearest_slots(service.code, PROCESS_CLOCK.local_now(), limit=3)
            offer = "I primi posti liberi sono questi:"
        if not nearest:
            dispatcher.utter_message(text=f"{why}. Non trovo posti liberi: una persona del Comune può aiutarti.", buttons=[MENU, PERSON])
            return [SlotSet("booking_slot", None)]
        dispatcher.utter_message(
            text=f"{why}. {offer}",
            buttons=[slot_button(service.code, s, code) for s in nearest]
            + [{"title": "📅 Altri giorni", "payload": payload("appointment_book", service=service.code, appointment_code=code or "")}, MENU, PERSON],
        )
        return [SlotSet("booking_slot", None)]

    async def _typed(
        self,
        dispatcher: CollectingDispatcher,
        client: BackOfficeClient,
        service: CounterService,
        wanted: Wanted,
        moving: Appointment | None,
    ) -> list[EventType]:
        code = moving.code if moving else None
        if wanted.time is None:
            return await self._ask_time(dispatcher, client, service, wanted.date, wanted.part_of_day, code)
        at = datetime.combine(wanted.date, wanted.time, ROME)
        found = await client.appointments.day_slots(service.code, wanted.date)
        match = next((s for s in found.slots if s.starts_at.astimezone(ROME) == at), None)
        if match is not None:
            return self._confirm(dispatcher, service, match.starts_at.astimezone(ROME), moving)
        if found.closed:
            why = f"{long_date(wanted.date).capitalize()} l'ufficio è chiuso" + (f" ({found.reason})" if found.reason else "")
        else:
            why = f"{long_date(wanted.date).capitalize()} alle {clock(at)} non c'è posto"
        return await self._offer_nearest(dispatcher, client, service, at, code, why)

    def _confirm(
        self,
        dispatcher: CollectingDispatcher,
        service: CounterService,
        starts_at: datetime,
        moving: Appointment | None,
    ) -> list[EventType]:
        local = starts_at.astimezone(ROME)
        code = moving.code if moving else ""
        what = "Sposto il tuo appuntamento a:" if moving else "Riepilogo:"
        dispatcher.utter_message(
            text=f"{what}\n{service.name}\n{when_text(local).capitalize()}\nDove: {service.location}\n\nConfermi?",
            buttons=[
                {"title": "✅ Sì, conferma", "payload": payload("appointment_book", service=service.code, appointment_slot=local.isoformat(), appointment_code=code, appointment_confirm="yes")},
                {"title": "⬅️ Indietro", "payload": payload("appointment_book", service=service.code, appointment_day=local.date().isoformat(), appointment_code=code)},
                MENU,
                PERSON,
            ],
        )
        # A new request id for each summary shown: a double tap on its ✅ is one booking,
        # a booking after a cancellation or a move is a new one.
        return [SlotSet("booking_slot", local.isoformat()), SlotSet("booking_request", uuid.uuid4().hex)]

    async def _book(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        client: BackOfficeClient,
        service: CounterService,
        starts_at: datetime,
        moving: Appointment | None,
    ) -> list[EventType]:
        user = channel_user(tracker)
        done: list[EventType] = [
            SlotSet("booking_open", False),
            SlotSet("booking_slot", None),
            SlotSet("booking_code", None),
        ]
        try:
            if moving is not None:
                appointment = await client.appointments.move(user, moving.code, starts_at)
            else:
                # The same confirmation sent twice (a double tap) is one booking: the key is
                # the summary's random request id, with the choice it confirms.
                request_id = tracker.get_slot("booking_request") or uuid.uuid4().hex
                key = f"booking:{request_id}:{service.code}:{starts_at.isoformat()}"
                appointment = await client.appointments.book(user, service.code, starts_at, idempotency_key=key)
        except SlotTaken as error:
            code = moving.code if moving else None
            return [SlotSet("booking_open", True), *await self._offer_nearest(
                dispatcher, client, service, starts_at, code, "Mi dispiace, quel posto è stato appena preso", error.alternatives
            )]
        except SlotClosed as error:
            code = moving.code if moving else None
            why = f"A quell'ora l'ufficio non riceve ({error.reason})" if error.reason else "A quell'ora l'ufficio non riceve"
            return [SlotSet("booking_open", True), *await self._offer_nearest(
                dispatcher, client, service, starts_at, code, why, error.alternatives
            )]
        except AlreadyBooked:
            dispatcher.utter_message(
                text=f"Hai già un appuntamento per {service.name}. Puoi spostarlo o disdirlo.",
                buttons=[MY_BOOKINGS, MENU, PERSON],
            )
            return done
        except NotFound:
            dispatcher.utter_message(text="Non trovo questo appuntamento tra i tuoi.", buttons=[MY_BOOKINGS, MENU, PERSON])
            return done
        dispatcher.utter_message(
            json_message={
                "qr": appointment.qr_payload,
                "caption": ticket_caption(appointment, moved=moving is not None),
                "buttons": [MY_BOOKINGS, MENU, PERSON],
            }
        )
        dispatcher.utter_message(json_message=TASK_DONE)  # the channel may offer the avvisi, once
        if moving is not None:
            done.append(SlotSet("booking_request", None))
        return done


def appointment_line(appointment: Appointment) -> str:
    return f"📅 {when_text(appointment.starts_at).capitalize()}: {appointment.service_name}, {appointment.location} (codice {appointment.code})"
