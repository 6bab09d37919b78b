"""The desk status of a booking: check-in (presente), served (completato), absent
(non_presentato); allowed transitions, idempotency, the citizen's history, the client.

Against the real back office on SQLite and PostgreSQL, migrated to head, with the clock
frozen on Thursday 26 November 2026 at 10:00 in Rome.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client import (
    AppointmentNotFound,
    BackOfficeClient,
    DeskStatusChange,
    InvalidTransition,
)
from backoffice.app import create_app
from backoffice.appkeys import CLOCK
from backoffice.db.seed import DEMO_CITIZENS
from sportello.clock import ROME, Clock
from sportello.settings import Settings
from tests.backoffice_http import API_KEY, AUTH, Client, chat, link

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)  # a Thursday
MARIO, GIULIA, _ = (citizen.fiscal_code for citizen in DEMO_CITIZENS)
TODAY_10_30 = "2026-11-26T10:30"
TOMORROW_9 = "2026-11-27T09:10"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest_asyncio.fixture
async def server(
    database_url: str, seeded_engine: AsyncEngine, clock: Clock, make_settings: Callable[..., Settings]
) -> AsyncIterator[TestServer]:
    settings = make_settings(database_url).model_copy(update={"appointment_reminder_interval_seconds": 0})
    app = create_app(settings)
    app[CLOCK] = clock
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest_asyncio.fixture
async def http(server: TestServer) -> AsyncIterator[Client]:
    async with TestClient(server) as client:
        yield client


async def booked(http: Client, user: int, starts_at: str, service: str = "anagrafe") -> dict[str, Any]:
    response = await http.post(
        "/v1/appointments",
        json={"service": service, "starts_at": starts_at},
        headers={**chat(user), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def set_status(http: Client, code: str, status: str) -> aiohttp.ClientResponse:
    return await http.post(f"/v1/staff/appointments/{code}/status", json={"status": status}, headers=AUTH)


async def status_events(http: Client) -> list[dict[str, Any]]:
    response = await http.get("/v1/events", params={"limit": 500}, headers=AUTH)
    return [e for e in (await response.json())["events"] if e["type"] == "appointment_status_changed"]


async def error(response: aiohttp.ClientResponse) -> dict[str, Any]:
    return dict((await response.json())["error"])


async def test_the_desk_checks_in_then_serves_and_the_citizens_history_shows_both(http: Client) -> None:
    await link(http, 31, MARIO)
    appointment = await booked(http, 31, TODAY_10_30)
    code = appointment["code"]

    checked_in = await set_status(http, code, "presente")
    again = await set_status(http, code, "presente")
    served = await set_status(http, code, "completato")

    assert checked_in.status == 200, await checked_in.text()
    assert ((await checked_in.json())["status"], (await checked_in.json())["changed"]) == ("presente", True)
    assert ((await again.json())["status"], (await again.json())["changed"]) == ("presente", False)
    assert ((await served.json())["status"], (await served.json())["changed"]) == ("completato", True)
    history = await status_events(http)
    assert [(e["payload"]["from_status"], e["payload"]["to_status"]) for e in history] == [
        ("prenotato", "presente"),
        ("presente", "completato"),
    ]
    assert history[0]["payload"]["status_label"] == "Presente allo sportello"
    assert history[0]["payload"]["code"] == code
    assert {e["citizen_id"] for e in history} == {history[0]["citizen_id"]} != {None}
    mine = await http.get(f"/v1/appointments/{code}", headers=chat(31))
    assert (await mine.json())["status"] == "completato"
    url = urlsplit(appointment["qr_payload"])
    page = await (await http.get(f"{url.path}?{url.query}")).text()
    assert "Completato" in page


async def test_two_desks_checking_in_at_once_write_one_event(http: Client) -> None:
    await link(http, 30, GIULIA)
    code = (await booked(http, 30, TODAY_10_30))["code"]

    responses = await asyncio.gather(*(set_status(http, code, "presente") for _ in range(4)))

    assert [r.status for r in responses] == [200] * 4
    assert sorted([(await r.json())["changed"] for r in responses]) == [False, False, False, True]
    assert len(await status_events(http)) == 1


async def test_serving_straight_from_the_booking_is_allowed(http: Client) -> None:
    await link(http, 32, MARIO)
    code = (await booked(http, 32, TODAY_10_30))["code"]

    served = await set_status(http, code, "completato")

    assert (served.status, (await served.json())["status"]) == (200, "completato")


async def test_a_wrong_transition_is_a_409_that_says_why_in_italian(http: Client) -> None:
    await link(http, 33, MARIO)
    code = (await booked(http, 33, TODAY_10_30))["code"]
    await set_status(http, code, "completato")

    back = await set_status(http, code, "presente")

    assert back.status == 409
    assert await error(back) == {
        "code": "invalid_transition",
        "message": "Questa prenotazione è chiusa («Completato»): non si può più segnare «Presente allo sportello».",
    }
    assert len(await status_events(http)) == 1


async def test_a_cancelled_booking_takes_no_desk_status(http: Client) -> None:
    await link(http, 34, GIULIA)
    code = (await booked(http, 34, TODAY_10_30))["code"]
    await http.delete(f"/v1/appointments/{code}", headers=chat(34))

    response = await set_status(http, code, "presente")

    assert response.status == 409
    assert "«Annullato»" in (await error(response))["message"]


async def test_absent_only_once_the_time_has_come_and_never_after_check_in(http: Client, clock: Clock) -> None:
    await link(http, 35, MARIO)
    await link(http, 36, GIULIA)
    early = (await booked(http, 35, TODAY_10_30))["code"]
    present = (await booked(http, 36, TODAY_10_30))["code"]
    await set_status(http, present, "presente")

    too_soon = await set_status(http, early, "non_presentato")
    clock.advance(timedelta(minutes=40))
    absent = await set_status(http, early, "non_presentato")
    absent_again = await set_status(http, early, "non_presentato")
    after_check_in = await set_status(http, present, "non_presentato")
    served_after_all = await set_status(http, early, "completato")

    assert too_soon.status == 409
    assert (await error(too_soon))["message"] == (
        "L'appuntamento non è ancora iniziato: non si può segnare il cittadino come non presentato."
    )
    assert (absent.status, (await absent.json())["status"]) == (200, "non_presentato")
    assert (absent_again.status, (await absent_again.json())["changed"]) == (200, False)
    assert after_check_in.status == 409
    assert (await error(after_check_in))["message"] == "Da «Presente allo sportello» non si può passare a «Non presentato»."
    assert served_after_all.status == 409


async def test_a_booking_for_another_day_cannot_be_checked_in_today(http: Client) -> None:
    await link(http, 37, MARIO)
    code = (await booked(http, 37, TOMORROW_9))["code"]

    response = await set_status(http, code, "presente")

    assert response.status == 409
    assert (await error(response))["message"] == (
        "La prenotazione è per venerdì 27 novembre 2026: si aggiorna dal giorno dell'appuntamento."
    )


async def test_an_unknown_code_is_a_404_and_an_unknown_status_a_400(http: Client) -> None:
    await link(http, 38, MARIO)
    code = (await booked(http, 38, TODAY_10_30))["code"]

    unknown = await set_status(http, "CE-ZZZZ", "presente")
    wrong = await set_status(http, code, "prenotato")
    anonymous = await http.post(f"/v1/staff/appointments/{code}/status", json={"status": "presente"})

    assert (unknown.status, (await error(unknown))["code"]) == (404, "appointment_not_found")
    assert wrong.status == 400
    assert (await error(wrong))["message"] == "Stato non valido: usa presente, completato o non_presentato."
    assert anonymous.status == 401


async def test_the_client_sets_the_desk_status_and_raises_typed_errors(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session:
        client = BackOfficeClient(session, str(server.make_url("/")), API_KEY, timeout=5, retry_backoff=0.01)
        link_code = await client.identity.create_link_code(MARIO)
        await client.identity.link("telegram:39", link_code.code)
        appointment = await client.appointments.book("telegram:39", "anagrafe", datetime(2026, 11, 26, 10, 30))

        checked_in = await client.appointments.set_desk_status(appointment.code, "presente")
        again = await client.appointments.set_desk_status(appointment.code.lower(), "presente")
        mine = await client.appointments.get("telegram:39", appointment.code)
        await client.appointments.set_desk_status(appointment.code, "completato")
        with pytest.raises(InvalidTransition) as wrong:
            await client.appointments.set_desk_status(appointment.code, "non_presentato")
        with pytest.raises(AppointmentNotFound):
            await client.appointments.set_desk_status("CE-ZZZZ", "presente")

    assert isinstance(checked_in, DeskStatusChange)
    assert (checked_in.status, checked_in.changed, again.changed) == ("presente", True, False)
    assert mine.status == "presente"
    assert "«Completato»" in str(wrong.value)
