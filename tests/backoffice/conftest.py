"""Fixtures: the real back office on a real database, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client import BackOfficeClient
from backoffice.app import AccessLogger, create_app
from backoffice.db import create_engine, create_sessionmaker, migrate
from backoffice.db.seed import seed_demo_data
from sportello.settings import Settings
from tests.backoffice_http import API_KEY, FILE_SECRET

POSTGRES_ADMIN_URL = os.environ.get(
    "BACKOFFICE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}"
        # CI promises a PostgreSQL; there its absence is a failure, not a reason to skip.
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"sportello_{secrets.token_hex(6)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    host_part = POSTGRES_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql+asyncpg://{host_part}/{name}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each kind the back office supports."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'backoffice.db'}"
    return str(request.getfixturevalue("postgres_database"))


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database (the PostgreSQL one is emptied for each test)."""
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def seeded_engine(engine: AsyncEngine) -> AsyncEngine:
    """An engine on a database migrated to head and seeded with the demo world."""
    await migrate(engine)
    await seed_demo_data(create_sessionmaker(engine))
    return engine


def _settings(database_url: str, api_key: str = API_KEY) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        backoffice_api_key=SecretStr(api_key),
        backoffice_file_secret=SecretStr(FILE_SECRET),
        seed_demo_data=True,
    )


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """Build settings for a test, independent of the developer's environment and .env."""
    return _settings


@pytest.fixture
def api_key() -> str:
    """The service credential the test server expects."""
    return API_KEY


@pytest_asyncio.fixture
async def server(
    database_url: str, seeded_engine: AsyncEngine
) -> AsyncIterator[TestServer]:
    """The real back-office app listening on a free loopback port."""
    test_server = TestServer(
        create_app(_settings(database_url)),
        host="127.0.0.1",
        access_log_class=AccessLogger,
    )
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest_asyncio.fixture
async def http(
    server: TestServer,
) -> AsyncIterator[TestClient[aiohttp.web.Request, aiohttp.web.Application]]:
    """A plain HTTP client of the running server, for checking the wire format."""
    async with TestClient(server) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture
async def backoffice_client(
    server: TestServer, client_session: aiohttp.ClientSession
) -> BackOfficeClient:
    """The typed client pointed at the running server."""
    return BackOfficeClient(
        client_session,
        str(server.make_url("/")),
        API_KEY,
        timeout=5,
        retry_backoff=0.01,
    )
