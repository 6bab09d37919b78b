"""Rules of the avvisi, with no I/O: the limits of a notice, the waste reminder, where a point is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from backoffice.errors import InvalidRequest
from sportello.clock import ROME
from sportello.formatting import long_date

EVENT_TYPE = "announcement"
TEXT_MAX = 3000
ATTACHMENT_KINDS = frozenset({"photo", "document"})
WASTE_TOPIC = "rifiuti"
# The evening reminder of the next day's collection goes out from this hour, Rome time.
WASTE_REMINDER_TIME = time(19, 0)


def check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("text is required")
    if len(text) > TEXT_MAX:
        raise InvalidRequest(f"text has at most {TEXT_MAX} characters")
    return text.strip()


def check_attachment(raw: object) -> dict[str, Any] | None:
    """None, or {"kind": photo|document, "file_id" or "url", optional "filename"}."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("kind") not in ATTACHMENT_KINDS:
        raise InvalidRequest("attachment must be an object with kind photo or document")
    source = {key: raw[key] for key in ("file_id", "url") if isinstance(raw.get(key), str) and raw[key]}
    if len(source) != 1:
        raise InvalidRequest("attachment needs one of file_id or url")
    found: dict[str, Any] = {"kind": raw["kind"], **source}
    if isinstance(raw.get("filename"), str):
        found["filename"] = raw["filename"][:100]
    return found


def waste_reminder_due(now: datetime) -> date | None:
    """The day whose collection is announced now: tomorrow, from 19:00 Rome time; else None."""
    local = now.astimezone(ROME)
    if local.time() < WASTE_REMINDER_TIME:
        return None
    return local.date() + timedelta(days=1)


def waste_text(zone_name: str, day: date, kinds: Iterable[str]) -> str:
    listed = ", ".join(kinds)
    return (
        f"Domani, {long_date(day)}, a {zone_name} si raccoglie: {listed}. Metti fuori i contenitori stasera."
    )


def waste_once_key(zone_code: str, day: date) -> str:
    return f"waste:{zone_code}:{day.isoformat()}"


def zone_at(zones: Iterable[tuple[str, dict[str, Any]]], lat: float, lon: float) -> str | None:
    """The code of the first zone whose GeoJSON outline holds the point, or None."""
    # Imported here: shapely loads numpy, which only a process that places a point needs.
    from shapely.geometry import Point, shape

    point = Point(lon, lat)
    for code, geometry in zones:
        if shape(geometry).covers(point):
            return code
    return None
