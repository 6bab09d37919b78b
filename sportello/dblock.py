"""One process at a time: a PostgreSQL advisory lock around work that replicas must not race.

Replicas start together and each prepares its schema (migrations, seed, the handoff tables);
two `CREATE TABLE`s at once collide in PostgreSQL's catalogue. On SQLite (one machine, one
writer at a time anyway) it does nothing.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Hold the advisory lock called `name` on `engine`'s database for the block."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = zlib.crc32(name.encode())
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        await connection.commit()
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            await connection.commit()
