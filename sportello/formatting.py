"""Money, dates and notice numbers written the way Italians read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from sportello.clock import ROME


def euro(cents: int) -> str:
    """14350 → «143,50 €»: integer cents in, never a float on the way."""
    return format_currency(Decimal(cents) / 100, "EUR", locale="it_IT")


def long_date(value: date) -> str:
    """«mercoledì 16 dicembre 2026»."""
    return format_date(value, "EEEE d MMMM y", locale="it")


def numeric_date(value: date) -> str:
    """«16/12/2026», as on a form or a stamp."""
    return f"{value:%d/%m/%Y}"


def numeric_date_time(value: datetime) -> str:
    """«16/12/2026 14:05» in Rome's time; a naive datetime is taken as UTC."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{aware.astimezone(ROME):%d/%m/%Y %H:%M}"


def short_day(value: date) -> str:
    """«lun 30 novembre», short enough for a button."""
    return format_date(value, "EEE d MMMM", locale="it")


def clock(value: datetime) -> str:
    """«9:00», the local time of an aware datetime as it is written on a ticket."""
    return format_datetime(value, "H:mm", tzinfo=value.tzinfo, locale="it")


def grouped(notice_number: str) -> str:
    """«3010 0000 0000 0020 12»: the codice avviso in groups of four, as on the paper notice."""
    return " ".join(notice_number[i : i + 4] for i in range(0, len(notice_number), 4))


def duration(value: timedelta) -> str:
    """«meno di 1 min», «12 min», «2 h 05 min», «3 g 4 h»: how long someone waited."""
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "meno di 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} g {hours} h"
