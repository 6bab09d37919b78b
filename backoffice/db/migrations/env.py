"""Alembic environment: runs migrations on a given connection or on an async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from backoffice.db import create_engine
from backoffice.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if url:
        return str(url)
    from sportello.settings import get_settings

    return get_settings().database_url


if context.is_offline_mode():
    context.configure(
        url=_database_url(), target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        # The alembic CLI (e.g. `alembic revision --autogenerate`) gets here without a loop.
        asyncio.run(_run_with_own_engine(_database_url()))
