"""Database engine, sessions and migrations of the back office."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from sportello.sqlite import tune

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def create_engine(database_url: str) -> AsyncEngine:
    """Create the async engine for `database_url` (sqlite+aiosqlite or postgresql+asyncpg).

    Statement parameters are hidden from error messages because they carry codici fiscali
    and names, and error messages end up in logs.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # SQLite ignores foreign keys unless every connection asks for them.
        return tune(create_async_engine(url, hide_parameters=True), foreign_keys=True)
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit, since repositories copy them out."""
    return async_sessionmaker(engine, expire_on_commit=False)


def ensure_sqlite_directory(database_url: str) -> None:
    """Create the directory of a SQLite file so a fresh checkout can start at once."""
    url = make_url(database_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database
        and url.database != ":memory:"
    ):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def alembic_config() -> Config:
    """Alembic configuration built in code, so no alembic.ini has to be found on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run_alembic(connection: Connection, direction: str, revision: str) -> None:
    config = alembic_config()
    # env.py runs on this connection instead of opening its own engine.
    config.attributes["connection"] = connection
    if direction == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def _alembic(engine: AsyncEngine, direction: str, revision: str) -> None:
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the original; with foreign
            # keys on, that drop would cascade and delete the rows of the tables that refer
            # to it (practice_history, say). The pragma only works outside a transaction.
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            await connection.run_sync(_run_alembic, direction, revision)
            await connection.commit()
        finally:
            if sqlite:
                await connection.rollback()
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (head by default) on `engine`."""
    await _alembic(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema down to `revision` ("base" removes every table)."""
    await _alembic(engine, "downgrade", revision)


async def ping(engine: AsyncEngine) -> None:
    """Run SELECT 1, raising if the database cannot answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
