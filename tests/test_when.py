"""Italian days and times as citizens type them, read on Thursday 26 November 2026 at 10:00."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from actions import parsing
from actions.when import ROME, Wanted, parse_when

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)  # a Thursday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("domani", Wanted(date(2026, 11, 27))),
        ("dopodomani", Wanted(date(2026, 11, 28))),
        ("dopo domani", Wanted(date(2026, 11, 28))),
        ("oggi", Wanted(date(2026, 11, 26))),
        ("martedì prossimo alle 10", Wanted(date(2026, 12, 1), time(10, 0))),
        ("martedi prossimo", Wanted(date(2026, 12, 1))),
        ("il prossimo martedì", Wanted(date(2026, 12, 1))),
        ("lunedì", Wanted(date(2026, 11, 30))),
        ("Lunedi", Wanted(date(2026, 11, 30))),
        ("giovedì 3 dicembre", Wanted(date(2026, 12, 3))),
        ("il 15/12", Wanted(date(2026, 12, 15))),
        ("15 dicembre alle 9:30", Wanted(date(2026, 12, 15), time(9, 30))),
        ("domani mattina", Wanted(date(2026, 11, 27), part_of_day="mattina")),
        ("alle 11", Wanted(date(2026, 11, 26), time(11, 0))),
        ("oggi pomeriggio", Wanted(date(2026, 11, 26), part_of_day="pomeriggio")),
    ],
)
def test_the_phrases_citizens_use_are_understood(text: str, expected: Wanted) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("venerdì 27", date(2026, 11, 27)),
        ("il 27", date(2026, 11, 27)),
        ("il 2", date(2026, 12, 2)),
        ("primo dicembre", date(2026, 12, 1)),
        ("1° dicembre", date(2026, 12, 1)),
        ("3 dic", date(2026, 12, 3)),
        ("15.12", date(2026, 12, 15)),
        ("3.12.2026", date(2026, 12, 3)),
        ("15/12/26", date(2026, 12, 15)),
        ("2026-12-03", date(2026, 12, 3)),
        ("tra 3 giorni", date(2026, 11, 29)),
        ("fra due giorni", date(2026, 11, 28)),
        ("tra una settimana", date(2026, 12, 3)),
        ("la prossima settimana", date(2026, 11, 30)),
        ("martedì della prossima settimana", date(2026, 12, 1)),
        ("sabato", date(2026, 11, 28)),
    ],
)
def test_days_said_in_other_ways_are_understood(text: str, expected: date) -> None:
    wanted = parse_when(text, NOW)

    assert wanted is not None and wanted.date == expected


def test_a_weekday_said_on_that_weekday_is_next_weeks() -> None:
    assert parse_when("giovedì", NOW) == Wanted(date(2026, 12, 3))


def test_a_date_without_a_year_is_the_next_one_and_today_stays_today() -> None:
    assert parse_when("26 novembre", NOW) == Wanted(date(2026, 11, 26))
    assert parse_when("il 25/11", NOW) == Wanted(date(2027, 11, 25))
    assert parse_when("6 gennaio", NOW) == Wanted(date(2027, 1, 6))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mercoledì alle 9", time(9, 0)),
        ("domani ore 15", time(15, 0)),
        ("domani alle 15:30", time(15, 30)),
        ("domani alle 9,30", time(9, 30)),
        ("domani alle 10.30", time(10, 30)),
        ("domani alle 10 e mezza", time(10, 30)),
        ("domani alle dieci e un quarto", time(10, 15)),
        ("domani alle 11 meno un quarto", time(10, 45)),
        ("domani a mezzogiorno", time(12, 0)),
        ("domani alle 3", time(15, 0)),
        ("domani alle 3 del pomeriggio", time(15, 0)),
        ("domani all'una", time(13, 0)),
    ],
)
def test_times_are_read_and_small_hours_are_the_afternoon(
    text: str, expected: time
) -> None:
    wanted = parse_when(text, NOW)

    assert wanted is not None and wanted.time == expected


def test_a_time_already_past_today_is_tomorrow() -> None:
    assert parse_when("alle 9", NOW) == Wanted(date(2026, 11, 27), time(9, 0))
    assert parse_when("alle 10", NOW) == Wanted(date(2026, 11, 27), time(10, 0))


def test_this_morning_and_tonight_are_today() -> None:
    assert parse_when("stamattina", NOW) == Wanted(
        date(2026, 11, 26), part_of_day="mattina"
    )
    # Counters close before the evening: "sera" asks for the afternoon.
    assert parse_when("stasera", NOW) == Wanted(
        date(2026, 11, 26), part_of_day="pomeriggio"
    )


def test_a_part_of_day_already_over_is_tomorrows() -> None:
    afternoon = datetime(2026, 11, 26, 15, 0, tzinfo=ROME)

    assert parse_when("mattina", afternoon) == Wanted(
        date(2026, 11, 27), part_of_day="mattina"
    )


def test_the_date_is_found_inside_a_sentence() -> None:
    assert parse_when("vorrei prenotare per domani alle 10, grazie!", NOW) == Wanted(
        date(2026, 11, 27), time(10, 0)
    )


@pytest.mark.parametrize(
    "text", ["boh", "😀", "🤷‍♀️👍", "", "   ", "ok", "sì grazie", "12", "31/11", "non lo so"]
)
def test_garbage_and_impossible_dates_are_none(text: str) -> None:
    assert parse_when(text, NOW) is None


def test_now_may_be_given_in_utc() -> None:
    late_evening_utc = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # 00:30 in Rome, Friday

    assert parse_when("domani", late_evening_utc) == Wanted(date(2026, 11, 28))


def test_the_target_is_the_time_or_the_part_of_days_or_the_day() -> None:
    assert Wanted(date(2026, 12, 1), time(10, 0)).target() == datetime(
        2026, 12, 1, 10, 0, tzinfo=ROME
    )
    assert Wanted(date(2026, 12, 1), part_of_day="pomeriggio").target() == datetime(
        2026, 12, 1, 15, 0, tzinfo=ROME
    )
    assert Wanted(date(2026, 12, 1)).target() == date(2026, 12, 1)


@pytest.mark.parametrize("server_zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_today_is_romes_whatever_the_servers_timezone(server_zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server set to UTC+14 or UTC-11 still reads "oggi" as the day it is in Cerveteri.

    Between them the two zones disagree with Rome at every hour, so this fails for a plain
    date.today() whenever it runs.
    """
    import time as clock

    from actions.when import rome_today

    monkeypatch.setenv("TZ", server_zone)
    clock.tzset()
    try:
        assert rome_today() == datetime.now(UTC).astimezone(ROME).date()
        assert parsing.italian_date("oggi", rome_today()) == datetime.now(UTC).astimezone(ROME).date()
    finally:
        monkeypatch.undo()
        clock.tzset()


def test_no_code_reads_the_servers_own_day_or_clock() -> None:
    """date.today(), datetime.now() without a zone and utcnow() give the server's day, not Rome's."""
    import re
    from pathlib import Path

    naive = re.compile(r"\bdate\.today\(\)|\bdatetime\.(?:now|today)\(\)|\.utcnow\(\)|time\.localtime\(")
    root = Path(__file__).resolve().parents[1]
    found = [
        f"{path.relative_to(root)}:{number}"
        for package in ("actions", "bot", "backoffice", "backend_client", "sportello")
        for path in sorted((root / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if naive.search(line)
    ]
    assert found == []
