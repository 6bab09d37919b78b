"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.db import alembic_config, downgrade, migrate
from backoffice.db.models import Base

EXPECTED_TABLES = {
    "citizens",
    "channel_links",
    "practice_types",
    "practices",
    "practice_history",
    "tax_positions",
    "counter_services",
    "events",
    "link_codes",
    "failed_attempts",
    "uploads",
    "idempotency_keys",
    "protocol_counters",
    "documents",
    "payment_notices",
    "payment_receipts",
    "appointments",
}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_migrating_an_empty_database_creates_every_table(
    engine: AsyncEngine,
) -> None:
    await migrate(engine)

    async with engine.connect() as connection:
        tables = await connection.run_sync(_tables)
    assert EXPECTED_TABLES <= tables
    assert "alembic_version" in tables


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    await migrate(engine)

    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_migrating_twice_leaves_the_schema_at_head(engine: AsyncEngine) -> None:
    await migrate(engine)
    await migrate(engine)

    async with engine.connect() as connection:
        assert await connection.run_sync(_revision) == _head()


async def test_downgrading_to_base_removes_every_table(engine: AsyncEngine) -> None:
    await migrate(engine)
    await downgrade(engine, "base")

    async with engine.connect() as connection:
        tables = await connection.run_sync(_tables)
    assert not EXPECTED_TABLES & tables


async def test_upgrading_from_0001_keeps_the_data_and_adds_questions_to_the_catalogue(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0001")
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO citizens (id, fiscal_code, given_name, family_name, created_at)"
                " VALUES (1, 'RSSMRA50C12C552D', 'Mario', 'Rossi', :now)"
            ),
            {"now": now},
        )
        await connection.execute(
            sa.insert(_types_0001),
            [
                {
                    "id": 1,
                    "code": "segnalazione",
                    "name": "Segnalazione",
                    "description": "",
                    "fields": [
                        {
                            "name": "category",
                            "label": "Di che cosa si tratta",
                            "kind": "choice",
                            "required": True,
                            "choices": ["illuminazione", "verde_pubblico", "altro"],
                        }
                    ],
                }
            ],
        )
        await connection.execute(
            text(
                "INSERT INTO practices (id, protocol_year, protocol_number, type_id,"
                " citizen_id, status, data, created_at, updated_at)"
                " VALUES (1, 2026, 7, 1, 1, 'presentata', '{}', :now, :now)"
            ),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO practice_history (practice_id, status, at)"
                " VALUES (1, 'presentata', :now)"
            ),
            {"now": now},
        )

    await migrate(engine)

    async with engine.connect() as connection:
        history = await connection.scalar(text("SELECT count(*) FROM practice_history"))
        fields = (
            await connection.execute(sa.select(_types_0001.c.fields))
        ).scalar_one()
    # Rebuilding the practices table on SQLite must not cascade into its history.
    assert history == 1
    assert fields[0]["question"] == "Di che cosa si tratta?"
    assert fields[0]["choices"] == ["illuminazione", "verde", "altro"]


_types_0001 = sa.table(
    "practice_types",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("description", sa.String()),
    sa.column("fields", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


async def test_upgrading_to_households_gives_only_the_demo_citizens_their_family(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0006")
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        for id_, code in ((1, "BNCGLI85L64C552A"), (2, "FRRLCU80C42C552X")):
            await connection.execute(
                text(
                    "INSERT INTO citizens (id, fiscal_code, given_name, family_name,"
                    " address, created_at) VALUES (:id, :code, 'N', 'N',"
                    " 'Via Roma 45, 00052 Cerveteri (RM)', :now)"
                ),
                {"id": id_, "code": code, "now": now},
            )

    await migrate(engine)

    async with engine.connect() as connection:
        households = dict(
            (await connection.execute(text("SELECT id, household_id FROM citizens"))).all()
        )
    # Same address text, yet no family is made up for the citizen the anagrafe has not given.
    assert households == {1: "F-000102", 2: None}
