"""Checking a pratica's data against its type's form fields, with messages in plain Italian."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from codicefiscale import codicefiscale

from backoffice.db.models import FieldKind
from backoffice.practices.schemas import PracticeField

MAX_TEXT_LENGTH = 2000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class CheckedData:
    """Data normalised to store, field errors, and the uploads the data refers to by field."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, list[str]] = field(default_factory=dict)


def check_practice_data(fields: tuple[PracticeField, ...], data: Any) -> CheckedData:
    """Check `data` field by field; ownership of uploads is left to the caller (it needs the DB)."""
    result = CheckedData()
    if not isinstance(data, dict):
        result.errors["data"] = "I dati della pratica devono essere un oggetto JSON."
        return result
    known = {item.name for item in fields}
    for name in data:
        if name not in known:
            result.errors[str(name)] = "Questo campo non è previsto per questa pratica."
    for item in fields:
        value = data.get(item.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if item.required:
                result.errors[item.name] = "Questo dato è obbligatorio."
            continue
        try:
            if item.kind == FieldKind.ATTACHMENT:
                result.uploads[item.name] = _upload_ids(value)
                result.data[item.name] = value
            else:
                result.data[item.name] = _check(item, value)
        except ValueError as exc:
            result.errors[item.name] = str(exc)
    return result


def _check(item: PracticeField, value: Any) -> Any:
    match item.kind:
        case FieldKind.FISCAL_CODE:
            if not isinstance(value, str):
                raise ValueError("Il codice fiscale deve essere un testo di 16 caratteri.")
            code = value.strip().upper()
            if not codicefiscale.is_valid(code):
                raise ValueError("Il codice fiscale non è valido: controllalo.")
            return code
        case FieldKind.DATE:
            if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
                raise ValueError("La data deve essere nel formato AAAA-MM-GG.")
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise ValueError("Questa data non esiste.") from None
        case FieldKind.CHOICE:
            if value not in item.choices:
                raise ValueError("Scegli una di queste: " + ", ".join(item.choices) + ".")
            return value
        case FieldKind.LOCATION:
            return _location(value)
        case _:  # text, address, and any kind added later that is plain text
            if not isinstance(value, str) or not value.strip():
                raise ValueError("Scrivi un testo.")
            if len(value) > MAX_TEXT_LENGTH:
                raise ValueError(f"Il testo è troppo lungo: al massimo {MAX_TEXT_LENGTH} caratteri.")
            return value.strip()


def _number(value: Any) -> float:
    # bool is an int in Python, but true is no latitude.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("La posizione deve avere latitudine e longitudine numeriche.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("La posizione deve avere latitudine e longitudine numeriche.")
    return number


def _location(value: Any) -> dict[str, float]:
    if not isinstance(value, dict) or set(value) != {"latitude", "longitude"}:
        raise ValueError("Mandami la posizione (latitudine e longitudine).")
    latitude, longitude = _number(value["latitude"]), _number(value["longitude"])
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ValueError("La posizione non è valida.")
    return {"latitude": latitude, "longitude": longitude}


def _upload_ids(value: Any) -> list[str]:
    ids = [value] if isinstance(value, str) else value
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(item, str) and _UPLOAD_ID.fullmatch(item) for item in ids)
    ):
        raise ValueError("Allega un file che mi hai mandato in chat.")
    if len(set(ids)) != len(ids):
        raise ValueError("Lo stesso file è allegato due volte.")
    return list(ids)
