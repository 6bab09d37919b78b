"""The counter (sportello): which offices there are and when they are open, from the back office."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from babel.dates import get_day_names
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.backoffice import backoffice
from backend_client import BackOfficeError, CounterService

_DAY_NAMES = get_day_names("abbreviated", locale="it")


class OpeningInterval(Protocol):
    weekday: int
    opens: str
    closes: str


def _clock(value: str) -> str:
    """Write 08:30 as 8:30, as people say it."""
    hours, _, minutes = value.partition(":")
    return f"{int(hours)}:{minutes}"


def format_opening_hours(hours: Iterable[OpeningInterval]) -> str:
    """Say opening hours in plain Italian, days with the same hours grouped together."""
    by_day: dict[int, list[str]] = {}
    for interval in sorted(hours, key=lambda h: (h.weekday, h.opens)):
        by_day.setdefault(interval.weekday, []).append(
            f"{_clock(interval.opens)}–{_clock(interval.closes)}"
        )
    if not by_day:
        return "chiuso al pubblico"
    groups: dict[str, list[int]] = {}
    for day, intervals in by_day.items():
        groups.setdefault(" e ".join(intervals), []).append(day)
    parts = [
        f"{', '.join(str(_DAY_NAMES[d]) for d in days)} {intervals}"
        for intervals, days in groups.items()
    ]
    return "; ".join(parts)


def describe_counter_services(services: Iterable[CounterService]) -> str:
    """One line per office with its opening hours."""
    return "\n".join(
        f"• {service.name}: {format_opening_hours(service.opening_hours)}" for service in services
    )


class ActionListCounterServices(Action):
    """List the comune's offices with their opening hours."""

    def name(self) -> str:
        return "action_list_counter_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            client = await backoffice()
            services = await client.list_counter_services()
        except BackOfficeError:
            dispatcher.utter_message(response="utter_counter_services_unavailable")
            return []
        text = (
            "Questi sono gli uffici del Comune e i loro orari:\n"
            f"{describe_counter_services(services)}\n"
            "Presto potrai prenotare da qui. Per ora chiama il centralino: 06 896301."
        )
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": "📍 Dove siamo", "payload": '/faq{"faq_topic": "office_location"}'},
                {"title": "🏠 Menu", "payload": "/main_menu"},
                {"title": "🙋 Parla con una persona", "payload": "/human_handoff"},
            ],
        )
        return []
