"""The declarative base, the UTC datetime type and the enums the tables constrain to."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Integer,
    MetaData,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from sportello.clock import PROCESS_CLOCK


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    SQLite has no timezone type and hands back naive values, so the zone is put back
    on read; naive values are refused on write because their zone is unknowable.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware values only")
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL so later issues can index and query inside documents.
JSONDocument = JSON().with_variant(postgresql.JSONB(), "postgresql")

# SQLite only autoincrements an INTEGER PRIMARY KEY, not a BIGINT one.
EventId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Return the current instant, timezone-aware, in UTC."""
    return PROCESS_CLOCK.now()


class PracticeStatus(enum.StrEnum):
    """Where a pratica is in its lifecycle."""

    BOZZA = "bozza"
    PRESENTATA = "presentata"
    IN_ISTRUTTORIA = "in_istruttoria"
    INTEGRAZIONE_RICHIESTA = "integrazione_richiesta"
    ACCOLTA = "accolta"
    RESPINTA = "respinta"
    ARCHIVIATA = "archiviata"


class TaxStatus(enum.StrEnum):
    """Whether a tax instalment is still owed."""

    DA_PAGARE = "da_pagare"
    SCADUTO = "scaduto"
    PAGATO = "pagato"


class FieldKind(enum.StrEnum):
    """What a pratica form field asks for, so the chat can ask for it the right way."""

    TEXT = "text"
    DATE = "date"
    ADDRESS = "address"
    CHOICE = "choice"
    FISCAL_CODE = "fiscal_code"
    ATTACHMENT = "attachment"
    LOCATION = "location"


def _in(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in values)


class Base(DeclarativeBase):
    """Declarative base with constraint names stable across SQLite and PostgreSQL."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
        list[Any]: JSONDocument,
    }
