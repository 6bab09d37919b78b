"""The typed client against the real back office, and against a back office that is down."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client import (
    BackOfficeClient,
    BackOfficeUnavailable,
    CounterService,
    NotFound,
    PracticeType,
    Unauthorized,
    open_client,
)
from backoffice.db import create_sessionmaker
from backoffice.db.seed import COUNTER_SERVICES, PRACTICE_TYPES
from backoffice.events.repository import EventRepository
from sportello.settings import Settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_client_reports_the_back_office_healthy(
    backoffice_client: BackOfficeClient,
) -> None:
    health = await backoffice_client.health()

    assert (health.status, health.database) == ("ok", "ok")


async def test_the_client_lists_the_counter_services_as_typed_values(
    backoffice_client: BackOfficeClient,
) -> None:
    services = await backoffice_client.appointments.services()

    assert all(isinstance(service, CounterService) for service in services)
    assert {s.code for s in services} == {s["code"] for s in COUNTER_SERVICES}
    anagrafe = await backoffice_client.appointments.service("anagrafe")
    assert anagrafe in services
    assert anagrafe.opening_hours[0].weekday == 0
    assert anagrafe.opening_hours[0].opens == "08:30"


async def test_the_client_lists_the_practice_types_with_their_fields(
    backoffice_client: BackOfficeClient,
) -> None:
    practice_types = await backoffice_client.practices.types()

    assert all(isinstance(item, PracticeType) for item in practice_types)
    assert {item.code for item in practice_types} == {
        item["code"] for item in PRACTICE_TYPES
    }
    segnalazione = next(item for item in practice_types if item.code == "segnalazione")
    assert "location" in {field.kind for field in segnalazione.fields}


async def test_an_unknown_counter_service_raises_not_found(
    backoffice_client: BackOfficeClient,
) -> None:
    with pytest.raises(NotFound) as raised:
        await backoffice_client.appointments.service("astronautica")

    assert raised.value.status == 404
    assert raised.value.code == "not_found"


async def test_a_code_with_a_slash_cannot_reach_another_route(
    backoffice_client: BackOfficeClient,
) -> None:
    with pytest.raises(NotFound):
        await backoffice_client.appointments.service("../practice-types")


async def test_a_wrong_api_key_raises_unauthorized(
    server: TestServer, client_session: aiohttp.ClientSession
) -> None:
    client = BackOfficeClient(client_session, str(server.make_url("/")), "wrong-key")

    with pytest.raises(Unauthorized):
        await client.appointments.services()


async def test_the_client_reads_the_event_feed_page_by_page(
    backoffice_client: BackOfficeClient, seeded_engine: AsyncEngine
) -> None:
    async with create_sessionmaker(seeded_engine).begin() as session:
        repository = EventRepository(session)
        ids = [
            (await repository.append("payment_received", {"n": n})).id for n in range(3)
        ]

    first = await backoffice_client.events.page(after=0, limit=2)
    second = await backoffice_client.events.page(after=first.last_id, limit=2)
    third = await backoffice_client.events.page(after=second.last_id, limit=2)

    assert [event.id for event in (*first.events, *second.events)] == ids
    assert third.events == () and third.last_id == ids[-1]
    assert first.events[0].type == "payment_received"
    assert first.events[0].created_at.tzinfo is not None
    assert first.events[0].created_at.utcoffset() == UTC.utcoffset(None)


async def test_nothing_listening_on_the_port_raises_back_office_unavailable(
    client_session: aiohttp.ClientSession,
) -> None:
    client = BackOfficeClient(
        client_session,
        f"http://127.0.0.1:{_free_port()}",
        "key",
        timeout=2,
        retry_backoff=0.01,
    )

    with pytest.raises(BackOfficeUnavailable):
        await client.appointments.services()


async def test_open_client_builds_a_working_client_from_settings_and_closes_its_session(
    server: TestServer,
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        backoffice_url=str(server.make_url("/")),
        backoffice_api_key="test-backoffice-key",  # type: ignore[arg-type]
    )

    async with await open_client(settings) as client:
        assert len(await client.appointments.services()) == len(COUNTER_SERVICES)
    assert client.transport.session.closed


# --- retries and idempotency, against a small real server that misbehaves on purpose ----


class FlakyBackOffice:
    """A back office that fails the first `failures` calls with 503, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str, str | None]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((request.method, request.headers.get("Idempotency-Key")))
        if len(self.calls) <= self.failures:
            return web.json_response(
                {"error": {"code": "unavailable", "message": "down"}}, status=503
            )
        return web.json_response(
            {"counter_services": [], "status": "ok", "database": "ok"}
        )


StartFlaky = Callable[[int], Awaitable[tuple[FlakyBackOffice, str]]]


@pytest_asyncio.fixture
async def flaky_server() -> AsyncIterator[StartFlaky]:
    """Start misbehaving back offices on free ports; stop them after the test."""
    servers: list[TestServer] = []

    async def start(failures: int) -> tuple[FlakyBackOffice, str]:
        backend = FlakyBackOffice(failures)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", backend.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return backend, str(server.make_url("/"))

    yield start
    for server in servers:
        await server.close()


async def test_a_get_is_retried_twice_after_a_5xx_and_then_succeeds(
    flaky_server: StartFlaky, client_session: aiohttp.ClientSession
) -> None:
    backend, url = await flaky_server(2)
    client = BackOfficeClient(client_session, url, "key", retry_backoff=0.01)

    assert await client.appointments.services() == []
    assert len(backend.calls) == 3


async def test_a_get_gives_up_after_two_retries(
    flaky_server: StartFlaky, client_session: aiohttp.ClientSession
) -> None:
    backend, url = await flaky_server(10)
    client = BackOfficeClient(client_session, url, "key", retry_backoff=0.01)

    with pytest.raises(BackOfficeUnavailable) as raised:
        await client.appointments.services()
    assert raised.value.status == 503
    assert len(backend.calls) == 3


async def test_a_creating_post_carries_an_idempotency_key_and_is_not_retried(
    flaky_server: StartFlaky, client_session: aiohttp.ClientSession
) -> None:
    backend, url = await flaky_server(1)
    client = BackOfficeClient(client_session, url, "key", retry_backoff=0.01)

    with pytest.raises(BackOfficeUnavailable):
        await client.transport.create("/v1/things", {"a": 1})

    [(method, key)] = backend.calls
    assert method == "POST"
    assert key is not None and len(key) == 32
