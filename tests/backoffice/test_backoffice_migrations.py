"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.db import downgrade, migrate
from backoffice.models import Base

EXPECTED_TABLES = {
    "citizens",
    "channel_links",
    "practice_types",
    "practices",
    "practice_history",
    "tax_positions",
    "counter_services",
    "events",
}


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


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
        assert await connection.run_sync(_revision) == "0001"


async def test_downgrading_to_base_removes_every_table(engine: AsyncEngine) -> None:
    await migrate(engine)
    await downgrade(engine, "base")

    async with engine.connect() as connection:
        tables = await connection.run_sync(_tables)
    assert not EXPECTED_TABLES & tables
