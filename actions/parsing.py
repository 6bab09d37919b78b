"""Read what a citizen typed: codici fiscali, protocol numbers, link codes, Italian dates."""

from __future__ import annotations

import re
from datetime import date, datetime

import dateparser
from codicefiscale import codicefiscale

_PROTOCOL = re.compile(r"(20\d{2})\s*/\s*0*(\d{1,6})\b")
_PROTOCOL_OF_YEAR = re.compile(r"\b0*(\d{1,6})\s+del\s+(20\d{2})\b", re.IGNORECASE)
_LINK_CODE = re.compile(r"\b([A-Za-z0-9]{4})\s*-?\s*([A-Za-z0-9]{4})\b")


def fiscal_code(text: str) -> str | None:
    """The codice fiscale in the text, upper case, if the real validator accepts it."""
    candidate = re.sub(r"\s+", "", text).upper()
    match = re.search(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]", candidate)
    if match is None:
        return None
    value = match.group(0)
    return value if codicefiscale.is_valid(value) else None


def protocol_number(text: str) -> str | None:
    """`2026/123`, `2026/000123` or `123 del 2026` as `2026/000123`."""
    match = _PROTOCOL.search(text)
    if match:
        return f"{match.group(1)}/{int(match.group(2)):06d}"
    match = _PROTOCOL_OF_YEAR.search(text)
    if match:
        return f"{match.group(2)}/{int(match.group(1)):06d}"
    return None


def link_code(text: str) -> str | None:
    """A portal link code (XXXX-XXXX), however it was typed."""
    match = _LINK_CODE.search(text.strip())
    return f"{match.group(1)}-{match.group(2)}".upper() if match else None


def italian_date(text: str, today: date | None = None) -> date | None:
    """A date said in Italian: `15/12/2026`, `15 dicembre`, `domani`, `lunedì prossimo`."""
    settings: dict[str, object] = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future"}
    if today is not None:
        settings["RELATIVE_BASE"] = datetime(today.year, today.month, today.day)
    parsed = dateparser.parse(text.strip(), languages=["it"], settings=settings)  # type: ignore[arg-type]
    return parsed.date() if parsed else None


