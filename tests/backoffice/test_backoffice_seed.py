"""The demo world: seeded once, coherent, with real codici fiscali and pagoPA notices."""

from __future__ import annotations

import re

from codicefiscale import codicefiscale
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import selectinload

from backoffice.db import create_sessionmaker, models
from backoffice.db.seed import DEMO_CITIZENS, seed_demo_data
from backoffice.taxes.domain import is_valid_notice_number, notice_number

SEEDED_TABLES = (
    models.Citizen,
    models.PracticeType,
    models.Practice,
    models.PracticeHistory,
    models.TaxPosition,
    models.CounterService,
)


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with create_sessionmaker(engine)() as session:
        return {
            table.__tablename__: int(
                await session.scalar(select(func.count()).select_from(table)) or 0
            )
            for table in SEEDED_TABLES
        }


def test_demo_codici_fiscali_are_valid_and_born_in_cerveteri() -> None:
    for citizen in DEMO_CITIZENS:
        assert codicefiscale.is_valid(citizen.fiscal_code), citizen.fiscal_code
        decoded = codicefiscale.decode(citizen.fiscal_code)
        assert decoded["birthplace"]["code"] == "C552"
        assert decoded["birthdate"].date() == citizen.birthdate


def test_the_pagopa_check_digits_match_the_published_test_vector() -> None:
    assert is_valid_notice_number("001340000013900808")
    assert not is_valid_notice_number("001340000013900809")
    assert is_valid_notice_number(notice_number("01", "2600000000001"))


async def test_seeding_twice_writes_the_demo_world_only_once(
    seeded_engine: AsyncEngine,
) -> None:
    first = await _counts(seeded_engine)

    seeded_again = await seed_demo_data(create_sessionmaker(seeded_engine))

    assert seeded_again is False
    assert await _counts(seeded_engine) == first
    assert first["citizens"] == 3
    assert first["counter_services"] == 5
    assert first["practice_types"] == 6


async def test_seeded_citizens_are_stored_with_valid_codici_fiscali(
    seeded_engine: AsyncEngine,
) -> None:
    async with create_sessionmaker(seeded_engine)() as session:
        codes = set(await session.scalars(select(models.Citizen.fiscal_code)))
    assert codes == {citizen.fiscal_code for citizen in DEMO_CITIZENS}
    assert all(codicefiscale.is_valid(code) for code in codes)


async def test_seeded_pratiche_have_protocols_and_a_history_ending_in_their_status(
    seeded_engine: AsyncEngine,
) -> None:
    async with create_sessionmaker(seeded_engine)() as session:
        practices = list(
            await session.scalars(
                select(models.Practice).options(selectinload(models.Practice.history))
            )
        )
    statuses = {practice.status for practice in practices}
    assert {
        "bozza",
        "presentata",
        "in_istruttoria",
        "integrazione_richiesta",
    } <= statuses
    for practice in practices:
        assert practice.history[-1].status == practice.status
        assert practice.created_at.tzinfo is not None
        if practice.status == "bozza":
            assert practice.protocol is None
        else:
            assert practice.protocol is not None
            assert re.fullmatch(r"\d{4}/\d{6}", practice.protocol)


async def test_seeded_taxes_and_other_dues_are_in_cents_with_valid_notices(
    seeded_engine: AsyncEngine,
) -> None:
    async with create_sessionmaker(seeded_engine)() as session:
        taxes = list(await session.scalars(select(models.TaxPosition)))
    assert {tax.tax_type for tax in taxes} == {"TARI", "IMU", "CANONE_UNICO", "MENSA"}
    for tax in taxes:
        assert isinstance(tax.amount_cents, int) and tax.amount_cents > 0
        assert tax.notice_number is not None and is_valid_notice_number(
            tax.notice_number
        )
        assert tax.status in {"da_pagare", "scaduto", "pagato"}
