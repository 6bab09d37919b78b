"""Office hours for the office and the day the citizen asked (units on the real models)."""

from __future__ import annotations

from datetime import date

import pytest

from actions.office_hours import office_hours_answer
from actions.when import said_day
from backend_client import Closure, CounterService, OpeningHours

TODAY = date(2026, 12, 2)  # a Wednesday


def hours(days: range | tuple[int, ...], opens: str, closes: str) -> list[OpeningHours]:
    return [OpeningHours(weekday=d, opens=opens, closes=closes) for d in days]


def counter(code: str, name: str, closures: tuple[Closure, ...] = ()) -> CounterService:
    return CounterService(
        code=code,
        name=name,
        description="",
        location="Piazza Risorgimento 1",
        slot_minutes=20,
        desks=1,
        opening_hours=tuple(hours(range(5), "08:30", "12:30") + hours((1, 3), "15:00", "17:00")),
        closures=closures,
    )


IMMACOLATA = Closure(date=date(2026, 12, 8), reason="Immacolata Concezione")
SERVICES = [
    counter("anagrafe", "Servizi demografici – Anagrafe", (IMMACOLATA,)),
    counter("tributi", "Ufficio Tributi", (IMMACOLATA,)),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a che ora apre l'anagrafe domani?", date(2026, 12, 3)),
        ("oggi è aperto?", date(2026, 12, 2)),
        ("orari di sabato", date(2026, 12, 5)),
        ("siete aperti l'8 dicembre?", date(2026, 12, 8)),
        ("a che ora apre l'anagrafe?", None),
        ("apre alle 10?", None),
        ("orari degli uffici", None),
    ],
)
def test_said_day_reads_only_a_named_day(text: str, expected: date | None) -> None:
    assert said_day(text, TODAY) == expected


def test_one_office_one_day() -> None:
    assert office_hours_answer(SERVICES, "anagrafe", date(2026, 12, 3), TODAY) == (
        "Domani, giovedì 3 dicembre, l'Anagrafe è aperta 8:30–12:30 e 15:00–17:00."
    )
    assert office_hours_answer(SERVICES, "tributi", date(2026, 12, 2), TODAY) == (
        "Oggi, mercoledì 2 dicembre, l'Ufficio Tributi è aperto 8:30–12:30."
    )


def test_a_closed_day_and_a_holiday_are_said_as_such() -> None:
    assert office_hours_answer(SERVICES, "anagrafe", date(2026, 12, 5), TODAY) == (
        "Sabato 5 dicembre l'Anagrafe è chiusa."
    )
    assert office_hours_answer(SERVICES, "anagrafe", date(2026, 12, 8), TODAY) == (
        "Martedì 8 dicembre l'Anagrafe è chiusa: Immacolata Concezione."
    )
    assert office_hours_answer(SERVICES, None, date(2026, 12, 8), TODAY) == (
        "Martedì 8 dicembre gli uffici sono chiusi: Immacolata Concezione."
    )


def test_one_office_any_day_and_every_office_one_day() -> None:
    assert office_hours_answer(SERVICES, "anagrafe", None, TODAY).startswith("Orari di l'Anagrafe") is False
    answer = office_hours_answer(SERVICES, "anagrafe", None, TODAY)
    assert answer.startswith("Orari dell'Anagrafe: ")
    assert "Tributi" not in answer
    day = office_hours_answer(SERVICES, None, date(2026, 12, 3), TODAY)
    assert day.splitlines() == [
        "Domani, giovedì 3 dicembre, gli uffici sono aperti così:",
        "• Servizi demografici – Anagrafe: 8:30–12:30 e 15:00–17:00",
        "• Ufficio Tributi: 8:30–12:30 e 15:00–17:00",
    ]


def test_the_general_answer_only_when_nothing_specific_was_asked() -> None:
    answer = office_hours_answer(SERVICES, None, None, TODAY)
    assert answer.startswith("Orari degli uffici aperti al pubblico:")
    assert "Anagrafe" in answer and "Tributi" in answer
    # An office the back office does not know is no office: the general answer.
    assert office_hours_answer(SERVICES, "uffici", None, TODAY) == answer
