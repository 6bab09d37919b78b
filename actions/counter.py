"""The counter (sportello): which offices there are and when they are open, from the back office."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from babel.dates import get_day_names

from backend_client import CounterService

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
