"""The HTTP API of the real back office, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.app import create_app
from backoffice.db import create_sessionmaker
from backoffice.db.seed import COUNTER_SERVICES, DEMO_CITIZENS, PRACTICE_TYPES
from backoffice.events.repository import EventRepository
from sportello.settings import Settings

AUTH = {"X-API-Key": "test-backoffice-key"}  # the key conftest gives the server
PROTECTED_PATHS = (
    "/v1/counter-services",
    "/v1/counter-services/anagrafe",
    "/v1/practice-types",
    "/v1/events",
)

Client = TestClient[Any, Any]


async def _append_events(engine: AsyncEngine, count: int) -> list[int]:
    async with create_sessionmaker(engine).begin() as session:
        repository = EventRepository(session)
        events = [
            await repository.append("practice_status_changed", {"sequence": n})
            for n in range(count)
        ]
    return [event.id for event in events]


async def test_health_reports_service_and_database_ok(http: Client) -> None:
    response = await http.get("/health")

    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}


async def test_health_answers_503_when_the_database_cannot_be_opened(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'backoffice.db'}"
    async with TestClient(TestServer(create_app(make_settings(url)))) as http:
        response = await http.get("/health")

        assert response.status == 503
        assert await response.json() == {"status": "unavailable", "database": "error"}


@pytest.mark.parametrize(
    "headers", [{}, {"X-API-Key": "wrong"}], ids=["missing", "wrong"]
)
async def test_every_v1_route_refuses_a_missing_or_wrong_api_key(
    http: Client, headers: dict[str, str]
) -> None:
    for path in PROTECTED_PATHS:
        response = await http.get(path, headers=headers)

        assert response.status == 401, path
        body = await response.json()
        assert body["error"]["code"] == "unauthorized"


async def test_counter_services_are_the_seeded_ones_with_opening_hours(
    http: Client,
) -> None:
    response = await http.get("/v1/counter-services", headers=AUTH)

    assert response.status == 200
    services = (await response.json())["counter_services"]
    assert [service["code"] for service in services] == sorted(
        service["code"] for service in COUNTER_SERVICES
    )
    assert {s["code"] for s in services} == {
        "anagrafe",
        "cie",
        "tributi",
        "ufficio_tecnico",
        "protocollo",
    }
    anagrafe = next(service for service in services if service["code"] == "anagrafe")
    weekdays = {hours["weekday"] for hours in anagrafe["opening_hours"]}
    assert weekdays == {0, 1, 2, 3, 4}
    afternoons = {
        h["weekday"] for h in anagrafe["opening_hours"] if h["opens"] >= "13:00"
    }
    assert afternoons == {1, 3}


async def test_one_counter_service_is_found_by_code(http: Client) -> None:
    response = await http.get("/v1/counter-services/tributi", headers=AUTH)

    assert response.status == 200
    service = await response.json()
    assert service["code"] == "tributi"
    assert service["slot_minutes"] > 0 and service["desks"] > 0


async def test_an_unknown_counter_service_is_a_404_with_the_json_error_body(
    http: Client,
) -> None:
    response = await http.get("/v1/counter-services/astronautica", headers=AUTH)

    assert response.status == 404
    body = await response.json()
    assert body["error"]["code"] == "not_found"
    assert isinstance(body["error"]["message"], str)


async def test_an_unknown_route_is_also_answered_with_the_json_error_body(
    http: Client,
) -> None:
    response = await http.get("/no-such-route")

    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_practice_types_are_the_seeded_catalogue_with_their_fields(
    http: Client,
) -> None:
    response = await http.get("/v1/practice-types", headers=AUTH)

    assert response.status == 200
    practice_types = (await response.json())["practice_types"]
    assert {item["code"] for item in practice_types} == {
        item["code"] for item in PRACTICE_TYPES
    }
    kinds = {field["kind"] for item in practice_types for field in item["fields"]}
    assert kinds == {
        "text",
        "date",
        "address",
        "choice",
        "fiscal_code",
        "attachment",
        "location",
    }
    for item in practice_types:
        for field in item["fields"]:
            assert set(field) == {
                "name",
                "label",
                "kind",
                "required",
                "choices",
                "question",
            }
            assert field["question"].strip()
            assert (field["kind"] == "choice") == bool(field["choices"])


async def test_the_event_feed_pages_with_after_and_limit(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    ids = await _append_events(seeded_engine, 5)
    assert ids == sorted(ids)

    seen: list[int] = []
    after = 0
    pages = 0
    while True:
        response = await http.get(
            "/v1/events", params={"after": after, "limit": 2}, headers=AUTH
        )
        assert response.status == 200
        page = await response.json()
        pages += 1
        if not page["events"]:
            assert page["last_id"] == after
            break
        assert len(page["events"]) <= 2
        seen.extend(event["id"] for event in page["events"])
        assert page["last_id"] == page["events"][-1]["id"]
        after = page["last_id"]

    assert seen == ids
    assert pages == 4


async def test_feed_events_carry_type_payload_and_a_utc_timestamp(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    [event_id] = await _append_events(seeded_engine, 1)

    response = await http.get(
        "/v1/events", params={"after": event_id - 1}, headers=AUTH
    )

    [event] = (await response.json())["events"]
    assert event["id"] == event_id
    assert event["type"] == "practice_status_changed"
    assert event["payload"] == {"sequence": 0}
    assert event["citizen_id"] is None
    assert datetime.fromisoformat(event["created_at"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "after=-1", "after=abc"])
async def test_out_of_range_feed_parameters_are_a_400(http: Client, query: str) -> None:
    response = await http.get(f"/v1/events?{query}", headers=AUTH)

    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_request"


async def test_logs_never_contain_codici_fiscali_or_names(
    http: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    for path in (*PROTECTED_PATHS, "/v1/counter-services/nessuno", "/health"):
        await http.get(path, headers=AUTH)

    for citizen in DEMO_CITIZENS:
        for secret in (citizen.fiscal_code, citizen.given_name, citizen.family_name):
            assert secret not in caplog.text


async def test_an_unexpected_error_is_a_500_whose_log_omits_the_message(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    fiscal_code = DEMO_CITIZENS[0].fiscal_code

    async def explode(request: web.Request) -> web.Response:
        raise RuntimeError(f"duplicate key {fiscal_code}")

    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    app.router.add_get("/explode", explode)
    async with TestClient(TestServer(app)) as http:
        response = await http.get("/explode")
        body = await response.json()

    assert response.status == 500
    assert body["error"]["code"] == "internal_error"
    assert "RuntimeError" in caplog.text
    assert fiscal_code not in caplog.text
