"""Every entity the NLU returns is one the actions can use: canonical, and only once.

DIET and the regex extractor may both find the same protocol number; DIET may return a
generic word ("permesso", "ufficio"), a plural ("uffici tecnici") or a part of a name
("suolo pubblico") that no synonym maps. `clean_entities` keeps one entity per span, maps each
value to its canonical form (the values the actions and the back office know) and drops
what maps to none. Pure Python (no Rasa import), so both environments can test it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# The values the actions accept for each entity with a closed set of values, and the word
# stems that name each one, tried in order (the first stem found in the value wins).
CANONICAL: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "service": [
        ("cie", ("cie", "identit", "documento d")),
        ("anagrafe", ("anagraf", "demografic", "certificat")),
        ("tributi", ("tribut", "tasse", "tassa")),
        ("ufficio_tecnico", ("tecnic", "urbanistic", "ediliz")),
        ("protocollo", ("protocoll",)),
    ],
    "practice_type": [
        ("certificato_residenza", ("residenz",)),
        ("stato_famiglia", ("famiglia",)),
        ("permesso_costruire", ("costruire",)),
        ("occupazione_suolo", ("suolo", "dehors", "passo carrabile", "ponteggi")),
        ("cila", ("cila",)),
        ("scia", ("scia",)),
        ("segnalazione", ("segnalazion",)),
    ],
    "issue_category": [
        ("illuminazione", ("illumin", "lampion", "luce", "luci")),
        ("strade", ("strad", "buca", "buche", "asfalt", "marciapied", "voragin")),
        ("rifiuti", ("rifiut", "cassonett", "immondiz", "spazzatur", "discaric", "sacchett")),
        ("verde", ("verde", "alber", "erba", "ram", "siepe", "potatur")),
        ("altro", ("altro", "tombin", "segnaletic", "perdita")),
    ],
    "tax_type": [
        ("TARI", ("tari", "rifiut", "spazzatur", "monnezz", "immondiz")),
        ("IMU", ("imu", "immobil", "municipal", "casa")),
        ("CANONE_UNICO", ("canone", "passo carrabile", "cosap", "suolo")),
        ("MENSA", ("mensa", "pasti", "pasto")),
        ("TRASPORTO", ("scuolabus", "trasporto")),
    ],
    "faq_topic": [
        (topic, (topic,))
        for topic in (
            "office_hours", "office_location", "contacts", "cie_requirements", "tari_info",
            "imu_info", "building_permits_info", "certificates_online",
        )
    ],
}
# Codes: read from the value whatever the extractor kept of them, or dropped.
_PROTOCOL = re.compile(r"(20\d{2})\s*/\s*0*(\d{1,6})\b")
_FISCAL = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")
_LINK = re.compile(r"([A-Z0-9]{4})\s*-?\s*([A-Z0-9]{4})")
# When two extractors find the same span, the regex is exact for codes, DIET for words.
_CODES = {"protocol_number", "fiscal_code", "notice_number", "link_code"}
_REGEX = "RegexEntityExtractor"


def plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text).lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text.replace("’", "'").replace("_", " ")).strip()


def canonical_code(entity: str, value: Any) -> str | None:
    text = str(value or "")
    if entity == "protocol_number":
        match = _PROTOCOL.search(text)
        return f"{match.group(1)}/{int(match.group(2)):06d}" if match else None
    if entity == "fiscal_code":
        match = _FISCAL.search(re.sub(r"\s+", "", text).upper())
        return match.group(0) if match else None
    if entity == "notice_number":
        digits = re.sub(r"\D", "", text)
        return digits if len(digits) == 18 else None
    if entity == "link_code":
        match = _LINK.fullmatch(text.strip().upper())
        return f"{match.group(1)}-{match.group(2)}" if match else None
    return text or None


def canonical_value(entity: str, value: Any, text: str = "") -> str | None:
    """The canonical value of an entity, or None when it names nothing the actions know."""
    if entity in _CODES:
        # The span as typed first: an extractor's value may be only part of it.
        return canonical_code(entity, text) or canonical_code(entity, value)
    choices = CANONICAL.get(entity)
    if choices is None:
        return None if value in (None, "") else str(value)
    known = {name for name, _ in choices}
    if value in known:
        return str(value)
    for candidate in (plain(str(value or "")), plain(text)):
        if not candidate:
            continue
        for name, stems in choices:
            if any(re.search(rf"\b{re.escape(stem)}", candidate) for stem in stems):
                return name
    return None


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return int(a.get("start", 0)) < int(b.get("end", 0)) and int(b.get("start", 0)) < int(a.get("end", 0))


def _preferred(entity: dict[str, Any]) -> int:
    """Higher is kept when two extractors found the same span."""
    by_regex = entity.get("extractor") == _REGEX
    return 1 if by_regex == (entity.get("entity") in _CODES) else 0


def clean_entities(entities: list[dict[str, Any]], text: str = "") -> list[dict[str, Any]]:
    """One entity per span and type, every value canonical; the others are dropped."""
    kept: list[dict[str, Any]] = []
    for entity in sorted(entities, key=_preferred, reverse=True):
        name = str(entity.get("entity"))
        surface = text[int(entity.get("start", 0)) : int(entity.get("end", 0))] if text else ""
        value = canonical_value(name, entity.get("value"), surface)
        if value is None:
            continue
        if any(k.get("entity") == name and _overlap(k, entity) for k in kept):
            continue
        if any(k.get("entity") == name and k.get("value") == value for k in kept):
            continue  # the same thing said twice is one answer
        kept.append({**entity, "value": value})
    return sorted(kept, key=lambda e: int(e.get("start", 0)))
