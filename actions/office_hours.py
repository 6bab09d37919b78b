"""Office hours for the office and the day a citizen asked, from the back office's counters.

"a che ora apre l'anagrafe domani?" → «Domani, venerdì 4 dicembre, l'Anagrafe è aperta
8:30–12:30.» Only when the question names neither an office nor a day is every office listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.dates import format_date

from actions.counter import _clock, describe_counter_services, format_opening_hours
from backend_client import CounterService

# How each office is named in a sentence ("l'Anagrafe è…", "orari dell'Anagrafe") and the
# ending its "apert-/chius-" takes.
_OFFICE_PHRASES: dict[str, tuple[str, str, str]] = {
    "anagrafe": ("l'Anagrafe", "dell'Anagrafe", "a"),
    "cie": ("lo sportello della carta d'identità", "dello sportello della carta d'identità", "o"),
    "tributi": ("l'Ufficio Tributi", "dell'Ufficio Tributi", "o"),
    "ufficio_tecnico": ("l'Ufficio Tecnico", "dell'Ufficio Tecnico", "o"),
    "protocollo": ("l'Ufficio Protocollo", "dell'Ufficio Protocollo", "o"),
}


def office_phrase(service: CounterService) -> tuple[str, str, str]:
    """The office as a subject, after "di", and the ending of its adjective."""
    return _OFFICE_PHRASES.get(
        service.code, (f"lo sportello «{service.name}»", f"dello sportello «{service.name}»", "o")
    )


def day_phrase(day: dt.date, today: dt.date) -> str:
    """«Oggi, giovedì 3 dicembre,» / «Domani, venerdì 4 dicembre,» / «Sabato 5 dicembre»."""
    named = format_date(day, "EEEE d MMMM", locale="it")
    if day == today:
        return f"Oggi, {named},"
    if day == today + dt.timedelta(days=1):
        return f"Domani, {named},"
    return named[:1].upper() + named[1:]


def hours_on(service: CounterService, day: dt.date) -> str | None:
    """The opening windows of that day («8:30–12:30 e 15:00–17:00»), None if closed."""
    windows = sorted(
        (h for h in service.opening_hours if h.weekday == day.weekday()), key=lambda h: h.opens
    )
    if not windows:
        return None
    return " e ".join(f"{_clock(h.opens)}–{_clock(h.closes)}" for h in windows)


def closure_reason(service: CounterService, day: dt.date) -> str | None:
    """Why every counter is closed that day (a holiday, the comune's own day), or None."""
    return next((c.reason for c in service.closures if c.date == day), None)


def one_office_one_day(service: CounterService, day: dt.date, today: dt.date) -> str:
    subject, _, ending = office_phrase(service)
    when = day_phrase(day, today)
    reason = closure_reason(service, day)
    if reason:
        return f"{when} {subject} è chius{ending}: {reason}."
    hours = hours_on(service, day)
    if hours is None:
        return f"{when} {subject} è chius{ending}."
    return f"{when} {subject} è apert{ending} {hours}."


def every_office_one_day(services: Sequence[CounterService], day: dt.date, today: dt.date) -> str:
    when = day_phrase(day, today)
    reason = closure_reason(services[0], day) if services else None
    if reason:
        return f"{when} gli uffici sono chiusi: {reason}."
    lines = []
    for service in services:
        hours = hours_on(service, day)
        lines.append(f"• {service.name}: {hours or 'chiuso'}")
    if all(hours_on(s, day) is None for s in services):
        return f"{when} gli uffici sono chiusi."
    return f"{when} gli uffici sono aperti così:\n" + "\n".join(lines)


def one_office(service: CounterService) -> str:
    _, of_office, _ = office_phrase(service)
    return f"Orari {of_office}: {format_opening_hours(service.opening_hours)}."


def office_hours_answer(
    services: Sequence[CounterService], service_code: str | None, day: dt.date | None, today: dt.date
) -> str:
    """The answer to the question as it was asked: one office, one day, both, or neither."""
    chosen = next((s for s in services if s.code == service_code), None) if service_code else None
    if chosen is not None and day is not None:
        return one_office_one_day(chosen, day, today)
    if chosen is not None:
        return one_office(chosen)
    if day is not None:
        return every_office_one_day(services, day, today)
    return f"Orari degli uffici aperti al pubblico:\n{describe_counter_services(services)}"
