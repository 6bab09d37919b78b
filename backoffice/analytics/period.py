"""The cruscotto's period: the days asked for (Rome's), and their bounds as instants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from backoffice.analytics.schemas import Period
from backoffice.errors import InvalidRequest
from sportello.clock import ROME

MAX_DAYS = 366
DEFAULT_DAYS = 30


def period(first: str | None, last: str | None, today: date) -> Period:
    """The period of ?from=&to= (YYYY-MM-DD): the last 30 days by default, at most 366."""
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise InvalidRequest("from e to sono date nel formato AAAA-MM-GG") from None
    if start > end:
        raise InvalidRequest("from viene dopo to")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidRequest(f"Si possono chiedere al massimo {MAX_DAYS} giorni")
    return Period(start, end)


def bounds(span: Period) -> tuple[datetime, datetime]:
    """The period's first instant and the one just after it (aware, Rome)."""
    start = datetime.combine(span.first, time(0), ROME)
    end = datetime.combine(span.last + timedelta(days=1), time(0), ROME)
    return start, end


def rome_day(at: datetime) -> date:
    return at.astimezone(ROME).date()
