"""Counter appointments: computed slots, closed days, bookings, races, reminders, the client.

Against the real back office on SQLite and PostgreSQL, with the clock frozen on
Thursday 26 November 2026 at 10:00 in Rome, so no test depends on today's date.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client import (
    AlreadyBooked,
    Appointment,
    AppointmentNotFound,
    AppointmentSlot,
    BackOfficeClient,
    Closure,
    NotLinked,
    SlotClosed,
    SlotTaken,
)
from backoffice.app import AccessLogger, create_app
from backoffice.appkeys import CLOCK
from backoffice.appointments.jobs import send_appointment_reminders
from backoffice.db import create_sessionmaker, migrate, models
from backoffice.db.seed import DEMO_CITIZENS
from sportello.clock import ROME, Clock
from sportello.settings import Settings
from tests.backoffice_http import AUTH, Client, chat, link

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)  # a Thursday
MARIO, GIULIA, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)
CODE = re.compile(r"^CE-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def _app(settings: Settings, clock: Clock, **changes: Any) -> aiohttp.web.Application:
    settings = settings.model_copy(
        update={"appointment_reminder_interval_seconds": 0, **changes}
    )
    app = create_app(settings)
    app[CLOCK] = clock
    return app


@pytest_asyncio.fixture
async def server(
    database_url: str,
    seeded_engine: AsyncEngine,
    clock: Clock,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[TestServer]:
    """The real back office, its clock frozen and its hourly reminders off."""
    test_server = TestServer(
        _app(make_settings(database_url), clock),
        host="127.0.0.1",
        access_log_class=AccessLogger,
    )
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def book(
    http: Client,
    user: int,
    service: str,
    starts_at: str,
    key: str | None = None,
) -> aiohttp.ClientResponse:
    headers = {**chat(user), "Idempotency-Key": key or uuid.uuid4().hex}
    return await http.post(
        "/v1/appointments",
        json={"service": service, "starts_at": starts_at},
        headers=headers,
    )


async def booked(http: Client, user: int, service: str, starts_at: str) -> dict[str, Any]:
    response = await book(http, user, service, starts_at)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def day(http: Client, service: str, on: str) -> dict[str, Any]:
    response = await http.get(
        f"/v1/counter-services/{service}/slots", params={"date": on}, headers=AUTH
    )
    assert response.status == 200, await response.text()
    return dict(await response.json())


def starts(slots: list[dict[str, Any]]) -> list[str]:
    return [slot["starts_at"] for slot in slots]


async def error(response: aiohttp.ClientResponse) -> dict[str, Any]:
    return dict((await response.json())["error"])


async def events(http: Client, of_type: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/events", params={"limit": 500}, headers=AUTH)
    return [e for e in (await response.json())["events"] if e["type"] == of_type]


# --- the services ---------------------------------------------------------------------


async def test_counter_services_say_what_to_bring_and_what_the_cie_costs(
    http: Client,
) -> None:
    response = await http.get("/v1/counter-services", headers=AUTH)

    services = {s["code"]: s for s in (await response.json())["counter_services"]}
    cie = services["cie"]
    assert cie["name"] == "Carta d'identità elettronica"
    assert cie["slot_minutes"] == 20
    assert any("fototessera" in item for item in cie["requirements"])
    assert any("denuncia" in item for item in cie["requirements"])
    assert any("tessera sanitaria" in item for item in cie["requirements"])
    assert cie["fee_cents"] == 2221
    assert "27,37" in cie["fee_note"]
    assert services["tributi"]["fee_cents"] is None
    assert all(service["requirements"] for service in services.values())


async def test_a_counter_service_tells_the_holidays_of_the_next_two_weeks(
    http: Client, clock: Clock
) -> None:
    clock.freeze(datetime(2026, 12, 20, 10, 0, tzinfo=ROME))

    response = await http.get("/v1/counter-services/protocollo", headers=AUTH)

    assert response.status == 200
    # From Sunday 20 December to Saturday 2 January; the weekends are not closures.
    assert (await response.json())["closures"] == [
        {"date": "2026-12-25", "reason": "Natale"},
        {"date": "2026-12-26", "reason": "Santo Stefano"},
        {"date": "2027-01-01", "reason": "Capodanno"},
    ]


async def test_the_comunes_own_closing_days_are_closures_too(
    database_url: str,
    seeded_engine: AsyncEngine,
    clock: Clock,
    make_settings: Callable[..., Settings],
) -> None:
    clock.freeze(datetime(2026, 12, 20, 10, 0, tzinfo=ROME))
    app = _app(make_settings(database_url), clock, comune_closing_days={"12-24": "Vigilia di Natale"})
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        one = await (await http.get("/v1/counter-services/anagrafe", headers=AUTH)).json()
        listed = await (await http.get("/v1/counter-services", headers=AUTH)).json()

    assert one["closures"][:2] == [
        {"date": "2026-12-24", "reason": "Vigilia di Natale"},
        {"date": "2026-12-25", "reason": "Natale"},
    ]
    assert [s["closures"] for s in listed["counter_services"] if s["code"] == "anagrafe"] == [
        one["closures"]
    ]


# --- computed slots -------------------------------------------------------------------


async def test_slots_follow_the_opening_hours_the_slot_length_and_the_desks(
    http: Client,
) -> None:
    tuesday = await day(http, "cie", "2026-12-01")
    wednesday = await day(http, "cie", "2026-12-02")
    technical = await day(http, "ufficio_tecnico", "2026-12-02")

    # Tuesday: 8:30–12:30 and 15:00–17:00 in 20-minute slots, two desks each.
    assert tuesday["closed"] is False and tuesday["reason"] is None
    assert len(tuesday["slots"]) == 12 + 6
    assert tuesday["slots"][0] == {
        "starts_at": "2026-12-01T08:30:00+01:00",
        "ends_at": "2026-12-01T08:50:00+01:00",
        "free": 2,
    }
    assert starts(tuesday["slots"])[11:13] == [
        "2026-12-01T12:10:00+01:00",
        "2026-12-01T15:00:00+01:00",
    ]
    assert tuesday["slots"][-1]["starts_at"] == "2026-12-01T16:40:00+01:00"
    # Wednesday: mornings only.
    assert len(wednesday["slots"]) == 12
    # The technical office: 9:00–12:00 on Wednesdays, half an hour, one desk.
    assert starts(technical["slots"]) == [
        f"2026-12-02T{hour}:00+01:00"
        for hour in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")
    ]
    assert {slot["free"] for slot in technical["slots"]} == {1}


async def test_summer_slots_carry_the_summer_offset(
    http: Client, clock: Clock
) -> None:
    clock.freeze(datetime(2027, 6, 1, 7, 0, tzinfo=ROME))

    june = await day(http, "protocollo", "2027-06-03")

    assert june["slots"][0]["starts_at"] == "2027-06-03T08:30:00+02:00"


async def test_past_slots_and_those_starting_within_half_an_hour_are_not_offered(
    http: Client,
) -> None:
    today = await day(http, "cie", "2026-11-26")
    yesterday = await day(http, "cie", "2026-11-25")

    # 10:00 now: 10:10 is too soon, 10:30 is the first; Thursday afternoon too.
    assert starts(today["slots"])[0] == "2026-11-26T10:30:00+01:00"
    assert len(today["slots"]) == 6 + 6
    assert yesterday == {
        "date": "2026-11-25",
        "closed": False,
        "reason": None,
        "slots": [],
    }


@pytest.mark.parametrize(
    ("on", "reason"),
    [
        ("2026-12-25", "Natale"),
        ("2026-12-26", "Santo Stefano"),
        ("2027-01-06", "Epifania"),
        ("2028-04-25", "Anniversario della Liberazione"),
        ("2028-05-08", "Festa di San Michele Arcangelo, patrono"),
        ("2026-11-28", "Chiusura settimanale"),
    ],
)
async def test_holidays_the_patron_and_weekends_are_closed_with_the_reason(
    http: Client, on: str, reason: str
) -> None:
    assert await day(http, "anagrafe", on) == {
        "date": on,
        "closed": True,
        "reason": reason,
        "slots": [],
    }


async def test_the_comune_sets_its_own_closing_days(
    database_url: str,
    seeded_engine: AsyncEngine,
    clock: Clock,
    make_settings: Callable[..., Settings],
) -> None:
    app = _app(
        make_settings(database_url),
        clock,
        comune_closing_days={"12-24": "Vigilia di Natale", "2026-12-07": "Ponte"},
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        eve = await day(http, "cie", "2026-12-24")
        bridge = await day(http, "cie", "2026-12-07")
        patron = await day(http, "cie", "2028-05-08")

    assert (eve["closed"], eve["reason"]) == (True, "Vigilia di Natale")
    assert (bridge["closed"], bridge["reason"]) == (True, "Ponte")
    assert patron["closed"] is False


async def test_the_next_open_days_skip_holidays_and_weekends(http: Client) -> None:
    response = await http.get(
        "/v1/counter-services/cie/days",
        params={"from": "2026-12-23", "count": "3"},
        headers=AUTH,
    )

    assert response.status == 200
    assert (await response.json())["days"] == [
        {"date": "2026-12-23", "free_slots": 12},
        {"date": "2026-12-24", "free_slots": 18},
        {"date": "2026-12-28", "free_slots": 12},
    ]


async def test_the_next_open_days_start_today_and_skip_full_ones(
    http: Client,
) -> None:
    # The technical office opens on Thursday afternoons only: 4 slots, one desk.
    for user, fiscal_code, at in ((11, MARIO, "15:00"), (12, GIULIA, "15:30"), (13, ANNA, "16:00")):
        await link(http, user, fiscal_code)
        await booked(http, user, "ufficio_tecnico", f"2026-11-26T{at}")

    response = await http.get("/v1/counter-services/ufficio_tecnico/days", headers=AUTH)

    days = (await response.json())["days"]
    assert days[0] == {"date": "2026-11-26", "free_slots": 1}
    assert [d["date"] for d in days[1:]] == [
        "2026-11-27",
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
    ]


async def test_days_are_only_offered_within_the_booking_horizon(http: Client) -> None:
    response = await http.get(
        "/v1/counter-services/cie/days",
        params={"from": "2027-01-20", "count": "30"},
        headers=AUTH,
    )

    days = [d["date"] for d in (await response.json())["days"]]
    assert days and days[-1] <= "2027-01-25"  # 60 days from 26 November


async def test_the_nearest_slots_are_that_days_first_then_the_next_ones(
    http: Client,
) -> None:
    # On Tuesdays the technical office opens in the afternoon only.
    same_day = await http.get(
        "/v1/counter-services/ufficio_tecnico/nearest",
        params={"at": "2026-12-01T10:00"},
        headers=AUTH,
    )
    around = await http.get(
        "/v1/counter-services/cie/nearest",
        params={"at": "2026-12-02T10:00:00+01:00", "limit": "4"},
        headers=AUTH,
    )
    closed = await http.get(
        "/v1/counter-services/cie/nearest",
        params={"at": "2026-12-25"},
        headers=AUTH,
    )

    assert starts((await same_day.json())["slots"]) == [
        "2026-12-01T15:00:00+01:00",
        "2026-12-01T15:30:00+01:00",
        "2026-12-01T16:00:00+01:00",
    ]
    assert starts((await around.json())["slots"]) == [
        "2026-12-02T09:30:00+01:00",
        "2026-12-02T09:50:00+01:00",
        "2026-12-02T10:10:00+01:00",
        "2026-12-02T10:30:00+01:00",
    ]
    # Christmas, Santo Stefano and a Sunday: the Monday after, from its first slot.
    assert starts((await closed.json())["slots"]) == [
        "2026-12-28T08:30:00+01:00",
        "2026-12-28T08:50:00+01:00",
        "2026-12-28T09:10:00+01:00",
    ]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/counter-services/cie/slots", {}),
        ("/v1/counter-services/cie/slots", {"date": "domani"}),
        ("/v1/counter-services/cie/days", {"count": "0"}),
        ("/v1/counter-services/cie/days", {"count": "31"}),
        ("/v1/counter-services/cie/days", {"from": "2026-13-01"}),
        ("/v1/counter-services/cie/nearest", {}),
        ("/v1/counter-services/cie/nearest", {"at": "presto"}),
    ],
)
async def test_malformed_availability_questions_are_a_400(
    http: Client, path: str, params: dict[str, str]
) -> None:
    response = await http.get(path, params=params, headers=AUTH)

    assert response.status == 400
    assert (await error(response))["code"] == "invalid_request"


async def test_an_unknown_service_has_no_slots(http: Client) -> None:
    response = await http.get(
        "/v1/counter-services/passaporti/slots",
        params={"date": "2026-12-01"},
        headers=AUTH,
    )

    assert response.status == 404


# --- booking, moving, cancelling ------------------------------------------------------


async def test_a_citizen_books_sees_moves_and_cancels_an_appointment(
    http: Client,
) -> None:
    await link(http, 21, MARIO)

    appointment = await booked(http, 21, "cie", "2026-12-01T09:10")

    assert CODE.fullmatch(appointment["code"])
    assert appointment["service_code"] == "cie"
    assert appointment["service_name"] == "Carta d'identità elettronica"
    assert "Piazza Risorgimento" in appointment["location"]
    assert appointment["starts_at"] == "2026-12-01T09:10:00+01:00"
    assert appointment["ends_at"] == "2026-12-01T09:30:00+01:00"
    assert (appointment["desk"], appointment["status"]) == (1, "prenotato")
    assert appointment["fee_cents"] == 2221
    assert len(appointment["requirements"]) == 3
    assert f"/appointments/verify/{appointment['code']}?t=" in appointment["qr_payload"]
    code = appointment["code"]
    tuesday = await day(http, "cie", "2026-12-01")
    assert tuesday["slots"][2] == {
        "starts_at": "2026-12-01T09:10:00+01:00",
        "ends_at": "2026-12-01T09:30:00+01:00",
        "free": 1,
    }

    mine = await http.get("/v1/appointments", headers=chat(21))
    assert (await mine.json())["appointments"] == [appointment]

    moved = await http.post(
        f"/v1/appointments/{code}/move",
        json={"starts_at": "2026-12-02T11:30:00+01:00"},
        headers=chat(21),
    )
    assert moved.status == 200, await moved.text()
    moved_body = await moved.json()
    assert moved_body["code"] == code
    assert moved_body["starts_at"] == "2026-12-02T11:30:00+01:00"
    assert (await day(http, "cie", "2026-12-01"))["slots"][2]["free"] == 2

    cancelled = await http.delete(f"/v1/appointments/{code.lower()}", headers=chat(21))
    again = await http.delete(f"/v1/appointments/{code}", headers=chat(21))

    assert cancelled.status == 200 and again.status == 200
    assert (await cancelled.json())["status"] == "annullato"
    assert (await cancelled.json())["desk"] is None
    assert (await again.json())["status"] == "annullato"
    assert (await (await http.get("/v1/appointments", headers=chat(21))).json()) == {
        "appointments": []
    }
    wednesday = await day(http, "cie", "2026-12-02")
    assert next(
        s for s in wednesday["slots"] if s["starts_at"] == "2026-12-02T11:30:00+01:00"
    )["free"] == 2
    one = await http.get(f"/v1/appointments/{code}", headers=chat(21))
    assert (await one.json())["status"] == "annullato"


async def test_a_cancelled_place_can_be_booked_again(http: Client) -> None:
    await link(http, 22, MARIO)
    await link(http, 23, GIULIA)
    first = await booked(http, 22, "protocollo", "2026-12-01T09:00")
    await http.delete(f"/v1/appointments/{first['code']}", headers=chat(22))

    second = await booked(http, 23, "protocollo", "2026-12-01T09:00")
    mario_again = await booked(http, 22, "protocollo", "2026-12-01T09:10")

    assert second["desk"] == 1
    assert mario_again["status"] == "prenotato"


async def test_the_desk_verifies_the_qr_code_on_a_public_page(http: Client) -> None:
    await link(http, 24, MARIO)
    appointment = await booked(http, 24, "cie", "2026-12-01T09:10")
    url = urlsplit(appointment["qr_payload"])

    page = await http.get(f"{url.path}?{url.query}")
    forged = await http.get(f"{url.path}?t=AAAAAAAAAAAAAAAAAAAAAA")
    bare = await http.get(url.path)

    assert page.status == 200
    html = await page.text()
    for expected in (
        "Carta d&#39;identità elettronica",
        "martedì 1 dicembre 2026",
        "09:10–09:30",
        "Sportello 1",
        "Prenotato",
        appointment["code"],
    ):
        assert expected in html
    assert "Rossi" not in html and MARIO not in html
    assert forged.status == 404 and bare.status == 404

    await http.delete(f"/v1/appointments/{appointment['code']}", headers=chat(24))
    assert "Annullato" in await (await http.get(f"{url.path}?{url.query}")).text()


async def test_a_citizen_sees_and_changes_only_their_own_appointments(
    http: Client,
) -> None:
    await link(http, 25, MARIO)
    await link(http, 26, GIULIA)
    mine = await booked(http, 25, "cie", "2026-12-01T09:10")
    path = f"/v1/appointments/{mine['code']}"

    seen = await http.get(path, headers=chat(26))
    cancelled = await http.delete(path, headers=chat(26))
    moved = await http.post(
        f"{path}/move", json={"starts_at": "2026-12-02T09:10"}, headers=chat(26)
    )
    listed = await http.get("/v1/appointments", headers=chat(26))

    for response in (seen, cancelled, moved):
        assert response.status == 404
        assert (await error(response))["code"] == "appointment_not_found"
    assert (await listed.json())["appointments"] == []
    still = await http.get(path, headers=chat(25))
    assert (await still.json())["status"] == "prenotato"
    assert (await still.json())["starts_at"] == "2026-12-01T09:10:00+01:00"


async def test_an_unlinked_chat_cannot_book_or_list(http: Client) -> None:
    booking = await book(http, 27, "cie", "2026-12-01T09:10")
    listing = await http.get("/v1/appointments", headers=chat(27))

    for response in (booking, listing):
        assert response.status == 403
        assert (await error(response))["code"] == "not_linked"


async def test_a_second_booking_for_the_same_service_is_already_booked(
    http: Client,
) -> None:
    await link(http, 28, MARIO)
    first = await booked(http, 28, "cie", "2026-12-01T09:10")

    second = await book(http, 28, "cie", "2026-12-03T09:10")
    other_service = await book(http, 28, "tributi", "2026-12-03T09:15")

    assert second.status == 409
    body = await error(second)
    assert body["code"] == "already_booked"
    assert body["appointment"]["code"] == first["code"]
    assert other_service.status == 201


async def test_replaying_a_booking_with_the_same_key_books_once(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 29, MARIO)
    key = uuid.uuid4().hex

    first = await book(http, 29, "cie", "2026-12-01T09:10", key)
    again = await book(http, 29, "cie", "2026-12-01T09:10", key)
    other = await book(http, 29, "cie", "2026-12-01T09:30", key)

    assert first.status == 201 and again.status in (200, 201)
    assert await again.json() == await first.json()
    assert other.status == 409
    assert (await error(other))["code"] == "idempotency_key_reused"
    assert await _count(seeded_engine) == 1


async def test_the_same_key_after_a_cancellation_books_anew(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 91, MARIO)
    key = uuid.uuid4().hex
    first = await book(http, 91, "cie", "2026-12-01T09:10", key)
    old = await first.json()
    await http.delete(f"/v1/appointments/{old['code']}", headers=chat(91))

    again = await book(http, 91, "cie", "2026-12-01T09:10", key)

    assert again.status == 201, await again.text()
    new = await again.json()
    assert new["code"] != old["code"] and new["status"] == "prenotato"
    mine = await (await http.get("/v1/appointments", headers=chat(91))).json()
    assert [a["code"] for a in mine["appointments"]] == [new["code"]]
    assert await _count(seeded_engine, "2026-12-01T09:10:00+01:00") == 1
    # And a retry of this new request gets this new booking.
    retry = await book(http, 91, "cie", "2026-12-01T09:10", key)
    assert await retry.json() == new


async def test_the_same_key_after_a_move_is_no_ticket_for_the_old_time(
    http: Client,
) -> None:
    await link(http, 92, GIULIA)
    key = uuid.uuid4().hex
    old = await (await book(http, 92, "cie", "2026-12-01T09:10", key)).json()
    await http.post(
        f"/v1/appointments/{old['code']}/move",
        json={"starts_at": "2026-12-02T09:10"},
        headers=chat(92),
    )

    again = await book(http, 92, "cie", "2026-12-01T09:10", key)

    # What stands is the moved booking: that is the answer, not the old ticket.
    assert again.status == 409
    body = await error(again)
    assert body["code"] == "already_booked"
    assert body["appointment"]["starts_at"] == "2026-12-02T09:10:00+01:00"


async def test_the_first_answer_to_a_key_is_kept_for_a_day_only(
    http: Client, clock: Clock, seeded_engine: AsyncEngine
) -> None:
    await link(http, 93, ANNA)
    key = uuid.uuid4().hex
    first = await book(http, 93, "tributi", "2026-12-01T09:15", key)
    assert first.status == 201
    clock.freeze(NOW + timedelta(hours=23))
    assert (await book(http, 93, "tributi", "2026-12-01T09:15", key)).status == 201

    clock.freeze(NOW + timedelta(hours=25))
    later = await book(http, 93, "tributi", "2026-12-01T09:15", key)

    # A day later the key is a new request: the booking it made is still there.
    assert later.status == 409
    assert (await error(later))["code"] == "already_booked"
    clock.freeze(NOW + timedelta(hours=50))
    cleaned = await http.post("/v1/jobs/housekeeping", headers=AUTH)
    assert cleaned.status == 200
    assert (await cleaned.json())["deleted"]["idempotency_keys"] >= 1
    async with create_sessionmaker(seeded_engine)() as session:
        left = await session.scalar(
            select(func.count()).select_from(models.IdempotencyRecord)
        )
    assert left == 0


async def test_concurrent_replays_with_the_same_key_book_once(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 39, GIULIA)
    key = uuid.uuid4().hex

    racing = await asyncio.gather(
        *(book(http, 39, "tributi", "2026-12-01T09:15", key) for _ in range(5))
    )

    bodies = [await response.json() for response in racing]
    assert all(response.status in (200, 201) for response in racing), bodies
    assert all(body == bodies[0] for body in bodies)
    assert await _count(seeded_engine) == 1


@pytest.mark.parametrize(
    ("starts_at", "reason"),
    [
        ("2026-11-25T10:10", "Orario già passato"),
        ("2026-11-26T10:10", "Si prenota almeno 30 minuti prima"),
        ("2026-12-01T13:00", "Fuori dall'orario degli appuntamenti"),
        ("2026-12-01T09:15", "Fuori dall'orario degli appuntamenti"),
        ("2026-11-28T09:10", "Chiusura settimanale"),
        ("2027-02-01T09:10", "Si prenota al massimo 60 giorni prima"),
    ],
)
async def test_a_time_without_a_slot_is_slot_closed_with_the_reason_and_alternatives(
    http: Client, starts_at: str, reason: str
) -> None:
    await link(http, 30, MARIO)

    response = await book(http, 30, "cie", starts_at)

    assert response.status == 422
    body = await error(response)
    assert (body["code"], body["reason"]) == ("slot_closed", reason)
    if not starts_at.startswith("2027-02"):
        assert len(body["alternatives"]) == 3


async def test_christmas_is_closed_and_the_alternatives_are_after_it(
    http: Client,
) -> None:
    await link(http, 31, MARIO)

    response = await book(http, 31, "cie", "2026-12-25T10:00")

    body = await error(response)
    assert (response.status, body["reason"]) == (422, "Natale")
    assert starts(body["alternatives"]) == [
        "2026-12-28T09:30:00+01:00",
        "2026-12-28T09:50:00+01:00",
        "2026-12-28T10:10:00+01:00",
    ]


async def test_liberation_day_and_the_patron_are_closed_with_alternatives(
    http: Client, clock: Clock
) -> None:
    clock.freeze(datetime(2028, 4, 20, 10, 0, tzinfo=ROME))
    await link(http, 32, MARIO)
    await link(http, 33, GIULIA)

    liberation = await book(http, 32, "tributi", "2028-04-25T09:00")
    patron = await book(http, 33, "tributi", "2028-05-08T09:00")

    for response, reason, next_day in (
        (liberation, "Anniversario della Liberazione", "2028-04-26"),
        (patron, "Festa di San Michele Arcangelo, patrono", "2028-05-09"),
    ):
        body = await error(response)
        assert (response.status, body["reason"]) == (422, reason)
        assert {s["starts_at"][:10] for s in body["alternatives"]} == {next_day}
        assert "2028-05-09T09:00:00+02:00" in starts(body["alternatives"]) or (
            next_day == "2028-04-26"
        )


async def test_a_full_slot_is_slot_taken_with_the_nearest_free_ones(
    http: Client,
) -> None:
    await link(http, 34, MARIO)
    await link(http, 35, GIULIA)
    await booked(http, 34, "ufficio_tecnico", "2026-12-02T10:00")

    response = await book(http, 35, "ufficio_tecnico", "2026-12-02T10:00")

    body = await error(response)
    assert (response.status, body["code"]) == (409, "slot_taken")
    # Half an hour either side first; of the two an hour away, the earlier.
    assert starts(body["alternatives"]) == [
        "2026-12-02T09:00:00+01:00",
        "2026-12-02T09:30:00+01:00",
        "2026-12-02T10:30:00+01:00",
    ]


async def test_two_citizens_racing_for_the_last_desk_one_wins_the_other_gets_alternatives(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    for user, fiscal_code in ((41, ANNA), (42, MARIO), (43, GIULIA)):
        await link(http, user, fiscal_code)
    # Two desks at the CIE counter: Anna takes one, Mario and Giulia race for the other.
    await booked(http, 41, "cie", "2026-12-03T09:10")

    responses = await asyncio.gather(
        book(http, 42, "cie", "2026-12-03T09:10"),
        book(http, 43, "cie", "2026-12-03T09:10"),
    )

    statuses = sorted(response.status for response in responses)
    assert statuses == [201, 409]
    winner = next(r for r in responses if r.status == 201)
    loser = next(r for r in responses if r.status == 409)
    assert (await winner.json())["desk"] == 2
    body = await error(loser)
    assert body["code"] == "slot_taken"
    assert len(body["alternatives"]) == 3
    assert "2026-12-03T09:10:00+01:00" not in starts(body["alternatives"])
    assert await _count(seeded_engine, "2026-12-03T09:10:00+01:00") == 2


async def test_three_citizens_racing_for_a_one_desk_slot_one_wins(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    for user, fiscal_code in ((44, ANNA), (45, MARIO), (46, GIULIA)):
        await link(http, user, fiscal_code)

    responses = await asyncio.gather(
        *(book(http, user, "protocollo", "2026-12-03T11:00") for user in (44, 45, 46))
    )

    assert sorted(r.status for r in responses) == [201, 409, 409]
    for response in responses:
        if response.status == 409:
            assert (await error(response))["code"] == "slot_taken"
    assert await _count(seeded_engine, "2026-12-03T11:00:00+01:00") == 1


async def test_moving_to_a_taken_slot_keeps_the_old_one(http: Client) -> None:
    await link(http, 47, MARIO)
    await link(http, 48, GIULIA)
    mine = await booked(http, 47, "ufficio_tecnico", "2026-12-02T09:00")
    await booked(http, 48, "ufficio_tecnico", "2026-12-02T10:00")

    taken = await http.post(
        f"/v1/appointments/{mine['code']}/move",
        json={"starts_at": "2026-12-02T10:00"},
        headers=chat(47),
    )
    closed = await http.post(
        f"/v1/appointments/{mine['code']}/move",
        json={"starts_at": "2026-12-08T10:00"},
        headers=chat(47),
    )

    assert taken.status == 409 and (await error(taken))["code"] == "slot_taken"
    assert closed.status == 422
    assert (await error(closed))["reason"] == "Immacolata Concezione"
    still = await http.get(f"/v1/appointments/{mine['code']}", headers=chat(47))
    assert (await still.json())["starts_at"] == "2026-12-02T09:00:00+01:00"
    assert (await day(http, "ufficio_tecnico", "2026-12-02"))["slots"][0][
        "starts_at"
    ] == "2026-12-02T09:30:00+01:00"


async def test_a_past_appointment_can_be_neither_moved_nor_cancelled(
    http: Client, clock: Clock
) -> None:
    await link(http, 49, MARIO)
    mine = await booked(http, 49, "cie", "2026-11-26T11:10")
    clock.freeze(NOW + timedelta(hours=2))

    moved = await http.post(
        f"/v1/appointments/{mine['code']}/move",
        json={"starts_at": "2026-12-01T09:10"},
        headers=chat(49),
    )
    cancelled = await http.delete(f"/v1/appointments/{mine['code']}", headers=chat(49))
    listed = await http.get("/v1/appointments", headers=chat(49))

    assert moved.status == 409 and cancelled.status == 409
    assert (await listed.json())["appointments"] == []


# --- reminders ------------------------------------------------------------------------


async def test_tomorrows_appointments_are_reminded_once_to_the_linked_chat(
    http: Client,
) -> None:
    await link(http, 51, MARIO)
    await link(http, 52, GIULIA)
    tomorrow = await booked(http, 51, "cie", "2026-11-27T09:10")
    await booked(http, 52, "cie", "2026-11-30T09:10")

    first = await http.post("/v1/jobs/appointment-reminders", json={}, headers=AUTH)
    second = await http.post("/v1/jobs/appointment-reminders", headers=AUTH)

    assert (await first.json()) == {"count": 1}
    assert (await second.json()) == {"count": 0}
    [reminder] = await events(http, "appointment_reminder")
    assert reminder["recipients"] == ["telegram:51"]
    payload = reminder["payload"]
    assert payload["code"] == tomorrow["code"]
    assert payload["service_name"] == "Carta d'identità elettronica"
    assert "Piazza Risorgimento" in payload["location"]
    assert payload["starts_at"] == "2026-11-27T09:10:00+01:00"
    assert payload["requirements"] == tomorrow["requirements"]
    assert payload["fee_cents"] == 2221


async def test_a_moved_appointment_is_reminded_again_and_a_cancelled_one_never(
    http: Client,
) -> None:
    await link(http, 53, MARIO)
    await link(http, 54, GIULIA)
    moving = await booked(http, 53, "cie", "2026-11-27T09:10")
    dropped = await booked(http, 54, "cie", "2026-11-27T09:30")
    await http.delete(f"/v1/appointments/{dropped['code']}", headers=chat(54))
    assert (
        await (await http.post("/v1/jobs/appointment-reminders", headers=AUTH)).json()
    ) == {"count": 1}

    await http.post(
        f"/v1/appointments/{moving['code']}/move",
        json={"starts_at": "2026-11-27T11:10"},
        headers=chat(53),
    )
    again = await http.post("/v1/jobs/appointment-reminders", headers=AUTH)

    assert (await again.json()) == {"count": 1}
    reminders = await events(http, "appointment_reminder")
    assert [r["payload"]["starts_at"] for r in reminders] == [
        "2026-11-27T09:10:00+01:00",
        "2026-11-27T11:10:00+01:00",
    ]


async def test_the_reminder_job_takes_another_now_and_tomorrow_is_romes(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 55, MARIO)
    await booked(http, 55, "cie", "2026-11-30T08:30")

    saturday_late = await http.post(
        "/v1/jobs/appointment-reminders",
        json={"now": "2026-11-28T23:30:00+00:00"},  # already Sunday 00:30 in Rome
        headers=AUTH,
    )
    async with create_sessionmaker(seeded_engine).begin() as session:
        direct = await send_appointment_reminders(
            session, datetime(2026, 11, 29, 9, 0, tzinfo=ROME)
        )

    assert (await saturday_late.json()) == {"count": 1}
    assert direct == 0


async def test_the_back_office_reminds_on_its_own_in_daytime(
    database_url: str,
    seeded_engine: AsyncEngine,
    clock: Clock,
    make_settings: Callable[..., Settings],
) -> None:
    app = _app(
        make_settings(database_url),
        clock,
        appointment_reminder_interval_seconds=0.05,
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        await link(http, 56, MARIO)
        await booked(http, 56, "cie", "2026-11-27T09:10")
        for _ in range(200):  # the first round runs at once; allow it 10 seconds
            if await events(http, "appointment_reminder"):
                break
            await asyncio.sleep(0.05)

    assert len(await _reminders(seeded_engine)) == 1


# --- the migration --------------------------------------------------------------------


async def test_migrating_a_database_with_counters_adds_the_cie_and_what_to_bring(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0003")
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(_services_0003),
            [
                {
                    "code": "anagrafe",
                    "name": "Anagrafe",
                    "description": "",
                    "location": "Piazza Risorgimento 1",
                    "slot_minutes": 20,
                    "desks": 3,
                    "opening_hours": [],
                }
            ],
        )

    await migrate(engine)

    async with engine.connect() as connection:
        rows = {
            row.code: row
            for row in await connection.execute(
                text("SELECT code, requirements, fee_cents FROM counter_services")
            )
        }
    assert set(rows) == {"anagrafe", "cie"}
    assert rows["cie"].fee_cents == 2221
    requirements = rows["anagrafe"].requirements
    if isinstance(requirements, str):  # SQLite hands JSON back as text
        requirements = json.loads(requirements)
    assert "un documento d'identità valido" in requirements


_services_0003 = sa.table(
    "counter_services",
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("description", sa.String()),
    sa.column("location", sa.String()),
    sa.column("slot_minutes", sa.Integer()),
    sa.column("desks", sa.Integer()),
    sa.column("opening_hours", sa.JSON()),
)


# --- the typed client -----------------------------------------------------------------


async def test_the_client_reads_days_slots_and_nearest_as_typed_values(
    backoffice_client: BackOfficeClient,
) -> None:
    days = await backoffice_client.appointments.available_days("cie", date(2026, 12, 23), count=3)
    christmas = await backoffice_client.appointments.day_slots("cie", date(2026, 12, 25))
    tuesday = await backoffice_client.appointments.day_slots("cie", date(2026, 12, 1))
    nearest = await backoffice_client.appointments.nearest_slots(
        "ufficio_tecnico", datetime(2026, 12, 1, 10, 0), limit=2
    )
    by_day = await backoffice_client.appointments.nearest_slots("cie", date(2026, 12, 1))
    [cie] = [s for s in await backoffice_client.appointments.services() if s.code == "cie"]

    assert [(d.date, d.free_slots) for d in days] == [
        (date(2026, 12, 23), 12),
        (date(2026, 12, 24), 18),
        (date(2026, 12, 28), 12),
    ]
    assert (christmas.closed, christmas.reason, christmas.slots) == (True, "Natale", ())
    assert tuesday.slots[0] == AppointmentSlot(
        starts_at=datetime(2026, 12, 1, 8, 30, tzinfo=ROME),
        ends_at=datetime(2026, 12, 1, 8, 50, tzinfo=ROME),
        free=2,
    )
    assert [s.starts_at for s in nearest] == [
        datetime(2026, 12, 1, 15, 0, tzinfo=ROME),
        datetime(2026, 12, 1, 15, 30, tzinfo=ROME),
    ]
    assert by_day[0].starts_at == datetime(2026, 12, 1, 8, 30, tzinfo=ROME)
    assert (cie.fee_cents, len(cie.requirements)) == (2221, 3)
    assert cie.fee_note is not None and "27,37" in cie.fee_note


async def test_the_client_reads_the_closures_of_a_counter_service(
    backoffice_client: BackOfficeClient, clock: Clock
) -> None:
    clock.freeze(datetime(2026, 12, 20, 10, 0, tzinfo=ROME))

    protocollo = await backoffice_client.appointments.service("protocollo")

    assert Closure(date=date(2026, 12, 25), reason="Natale") in protocollo.closures
    assert [c.date for c in protocollo.closures] == sorted(c.date for c in protocollo.closures)


async def test_the_client_books_lists_moves_cancels_and_reminds(
    backoffice_client: BackOfficeClient,
) -> None:
    user = "telegram:61"
    code = await backoffice_client.identity.create_link_code(MARIO)
    await backoffice_client.identity.link(user, code.code)

    booked_one = await backoffice_client.appointments.book(
        user, "cie", datetime(2026, 11, 27, 9, 10)
    )
    listed = await backoffice_client.appointments.mine(user)
    moved = await backoffice_client.appointments.move(
        user, booked_one.code, datetime(2026, 11, 27, 9, 30, tzinfo=ROME)
    )
    reminded = await backoffice_client.appointments.run_reminders()
    reminded_later = await backoffice_client.appointments.run_reminders(
        datetime(2026, 11, 26, 18, 0, tzinfo=ROME)
    )
    one = await backoffice_client.appointments.get(user, booked_one.code)
    cancelled = await backoffice_client.appointments.cancel(user, booked_one.code)
    cancelled_again = await backoffice_client.appointments.cancel(user, booked_one.code)

    assert isinstance(booked_one, Appointment)
    assert booked_one.starts_at == datetime(2026, 11, 27, 9, 10, tzinfo=ROME)
    assert (booked_one.desk, booked_one.status, booked_one.fee_cents) == (
        1,
        "prenotato",
        2221,
    )
    assert booked_one.qr_payload.startswith("http")
    assert listed == [booked_one]
    assert (moved.code, moved.starts_at) == (
        booked_one.code,
        datetime(2026, 11, 27, 9, 30, tzinfo=ROME),
    )
    assert (reminded, reminded_later) == (1, 0)
    assert one == moved
    assert cancelled.status == cancelled_again.status == "annullato"
    assert await backoffice_client.appointments.mine(user) == []


async def test_the_client_raises_typed_errors_with_alternatives_and_the_reason(
    backoffice_client: BackOfficeClient,
) -> None:
    mario, giulia = "telegram:62", "telegram:63"
    for user, fiscal_code in ((mario, MARIO), (giulia, GIULIA)):
        code = await backoffice_client.identity.create_link_code(fiscal_code)
        await backoffice_client.identity.link(user, code.code)
    first = await backoffice_client.appointments.book(
        mario, "ufficio_tecnico", datetime(2026, 12, 2, 10, 0)
    )

    with pytest.raises(SlotTaken) as taken:
        await backoffice_client.appointments.book(
            giulia, "ufficio_tecnico", datetime(2026, 12, 2, 10, 0)
        )
    with pytest.raises(SlotClosed) as closed:
        await backoffice_client.appointments.book(
            giulia, "ufficio_tecnico", datetime(2026, 12, 25, 10, 0)
        )
    with pytest.raises(AlreadyBooked) as already:
        await backoffice_client.appointments.book(
            mario, "ufficio_tecnico", datetime(2026, 12, 4, 10, 0)
        )
    with pytest.raises(AppointmentNotFound):
        await backoffice_client.appointments.cancel(giulia, first.code)
    with pytest.raises(NotLinked):
        await backoffice_client.appointments.mine("telegram:64")

    assert [s.starts_at for s in taken.value.alternatives] == [
        datetime(2026, 12, 2, 9, 0, tzinfo=ROME),
        datetime(2026, 12, 2, 9, 30, tzinfo=ROME),
        datetime(2026, 12, 2, 10, 30, tzinfo=ROME),
    ]
    assert taken.value.status == 409
    assert closed.value.reason == "Natale"
    assert all(isinstance(s, AppointmentSlot) for s in closed.value.alternatives)
    assert closed.value.alternatives[0].starts_at.date() == date(2026, 12, 28)
    assert already.value.existing == first


# --- helpers --------------------------------------------------------------------------


async def _count(engine: AsyncEngine, starts_at: str | None = None) -> int:
    query = select(func.count()).select_from(models.Appointment).where(
        models.Appointment.status == "prenotato"
    )
    if starts_at is not None:
        query = query.where(
            models.Appointment.starts_at == datetime.fromisoformat(starts_at)
        )
    async with create_sessionmaker(engine)() as session:
        return int(await session.scalar(query) or 0)


async def _reminders(engine: AsyncEngine) -> list[models.Event]:
    async with create_sessionmaker(engine)() as session:
        return list(
            await session.scalars(
                select(models.Event).where(models.Event.type == "appointment_reminder")
            )
        )
