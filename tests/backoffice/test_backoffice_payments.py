"""Tributi and pagoPA: positions, notices, the simulated checkout, receipts and reminders.

Against the real back office on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.app import create_app
from backoffice.capabilities import sign_file_token
from backoffice.db import create_sessionmaker, downgrade, migrate, models
from backoffice.db.seed import DEMO_CITIZENS
from backoffice.taxes import routes as tax_routes
from backoffice.taxes.domain import is_valid_notice_number, position_status, sign_receipt_token
from sportello.clock import Clock
from sportello.formatting import euro
from sportello.settings import Settings
from tests.backoffice_http import AUTH, FILE_SECRET, Client, chat, link

MARIO, GIULIA, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)
PAYLOAD = re.compile(r"PAGOPA\|002\|(\d{18})\|(\d{11})\|(\d+)")
PAYEE_FISCAL_CODE = Settings(_env_file=None).comune_fiscal_code  # type: ignore[call-arg]


async def error_code(response: aiohttp.ClientResponse) -> str:
    return str((await response.json())["error"]["code"])


async def taxes(http: Client, user: int) -> list[dict[str, Any]]:
    response = await http.get("/v1/taxes", headers=chat(user))
    assert response.status == 200, await response.text()
    return list((await response.json())["taxes"])


async def issue(http: Client, user: int, position_id: int) -> aiohttp.ClientResponse:
    return await http.post(f"/v1/taxes/{position_id}/notice", headers=chat(user))


async def notice(http: Client, user: int, position_id: int) -> dict[str, Any]:
    response = await issue(http, user, position_id)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def events_of(http: Client, type: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/events", params={"limit": 500}, headers=AUTH)
    return [e for e in (await response.json())["events"] if e["type"] == type]


def checkout_path(body: dict[str, Any]) -> str:
    url = str(body["checkout_url"])
    assert re.fullmatch(r"https?://[^/]+/checkout/[A-Za-z0-9_\-]+", url), url
    return "/checkout/" + url.rsplit("/", 1)[1]


async def positions(
    engine: AsyncEngine, fiscal_code: str, **where: Any
) -> list[models.TaxPosition]:
    """A citizen's positions straight from the database, by id."""
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalars(
            select(models.TaxPosition)
            .join(models.Citizen)
            .where(models.Citizen.fiscal_code == fiscal_code)
            .filter_by(**where)
            .order_by(models.TaxPosition.id)
        )
        return list(rows)


async def position(engine: AsyncEngine, fiscal_code: str, **where: Any) -> int:
    found = await positions(engine, fiscal_code, **where)
    return found[0].id


async def set_position(engine: AsyncEngine, position_id: int, **values: Any) -> None:
    async with create_sessionmaker(engine).begin() as session:
        await session.execute(
            update(models.TaxPosition)
            .where(models.TaxPosition.id == position_id)
            .values(**values)
        )


async def count(engine: AsyncEngine, table: type[models.Base]) -> int:
    async with create_sessionmaker(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def rome_today() -> date:
    return Clock().today()


# --- listing --------------------------------------------------------------------------


async def test_a_citizen_lists_only_their_own_positions_with_todays_status(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 1, MARIO)

    listed = await taxes(http, 1)

    own = await positions(seeded_engine, MARIO)
    assert {item["id"] for item in listed} == {p.id for p in own}
    today = rome_today()
    by_id = {p.id: p for p in own}
    for item in listed:
        row = by_id[item["id"]]
        assert item["status"] == position_status(row.status, row.due_date, today)
        assert item["amount_cents"] == row.amount_cents
        assert isinstance(item["amount_cents"], int)
        assert item["due_date"] == row.due_date.isoformat()
        assert item["payable"] == (item["status"] != "pagato")
        assert item["notice_number"] is None or is_valid_notice_number(
            item["notice_number"]
        )
    assert {item["tax_type"] for item in listed} >= {"TARI", "CANONE_UNICO"}
    dues = [item["due_date"] for item in listed]
    assert dues == sorted(dues)


async def test_an_unpaid_instalment_past_its_due_date_is_listed_as_overdue(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 2, GIULIA)
    tari = await position(seeded_engine, GIULIA, tax_type="TARI")
    yesterday = rome_today() - timedelta(days=1)
    await set_position(seeded_engine, tari, status="da_pagare", due_date=yesterday)

    listed = {item["id"]: item for item in await taxes(http, 2)}

    assert listed[tari]["status"] == "scaduto"
    assert listed[tari]["payable"] is True


async def test_an_unlinked_chat_gets_not_linked_everywhere(http: Client) -> None:
    headers = chat(3)
    for response in (
        await http.get("/v1/taxes", headers=headers),
        await http.post("/v1/taxes/1/notice", headers=headers),
        await http.get("/v1/notices/301260000000000274", headers=headers),
        await http.put(
            "/v1/me/preferences", json={"tax_reminders": False}, headers=headers
        ),
    ):
        assert response.status == 403
        assert await error_code(response) == "not_linked"


async def test_the_taxes_need_the_service_credential(http: Client) -> None:
    response = await http.get("/v1/taxes", headers={"X-Channel-User": "telegram:4"})

    assert response.status == 401


# --- notices --------------------------------------------------------------------------


async def test_issuing_a_notice_gives_a_valid_pagopa_notice_with_its_qr_payload(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 5, ANNA)
    [first, *_] = await positions(seeded_engine, ANNA, tax_type="TARI")

    body = await notice(http, 5, first.id)

    number = body["notice_number"]
    assert is_valid_notice_number(number) and number.startswith("3")
    # The number the comune already sent for this instalment is kept.
    assert number == first.notice_number
    assert body["payee_name"] == "Comune di Cerveteri"
    assert body["payee_fiscal_code"] == PAYEE_FISCAL_CODE
    assert body["amount_cents"] == first.amount_cents == 9875
    assert body["due_date"] == first.due_date.isoformat()
    assert body["description"] == first.description
    assert body["position_id"] == first.id
    assert body["qr_payload"] == f"PAGOPA|002|{number}|{PAYEE_FISCAL_CODE}|9875"
    assert PAYLOAD.fullmatch(body["qr_payload"])
    checkout_path(body)


async def test_issuing_twice_returns_the_same_notice(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 6, ANNA)
    tari = await position(seeded_engine, ANNA, tax_type="TARI")

    first = await notice(http, 6, tari)
    again = await notice(http, 6, tari)

    assert again == first
    assert await count(seeded_engine, models.PaymentNotice) == 1


async def test_a_position_without_a_usable_number_gets_a_fresh_valid_one(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 7, ANNA)
    tari = await position(seeded_engine, ANNA, tax_type="TARI")
    await set_position(seeded_engine, tari, notice_number="001340000013900808")

    body = await notice(http, 7, tari)

    assert body["notice_number"].startswith("301")  # aux digit 3, segregation code 01
    assert is_valid_notice_number(body["notice_number"])
    listed = {item["id"]: item for item in await taxes(http, 7)}
    assert listed[tari]["notice_number"] == body["notice_number"]


async def test_concurrent_requests_issue_one_notice(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 8, ANNA)
    tari = await position(seeded_engine, ANNA, tax_type="TARI")
    # Without a number every request draws its own: only one may win.
    await set_position(seeded_engine, tari, notice_number=None)

    responses = await asyncio.gather(*(issue(http, 8, tari) for _ in range(8)))

    bodies = [await response.json() for response in responses]
    assert all(response.status == 200 for response in responses), bodies
    assert all(body == bodies[0] for body in bodies)
    assert await count(seeded_engine, models.PaymentNotice) == 1


async def test_a_paid_position_has_no_notice_to_pay(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 9, MARIO)
    paid = (await positions(seeded_engine, MARIO, status="pagato"))[0]

    by_id = await issue(http, 9, paid.id)
    by_number = await http.get(f"/v1/notices/{paid.notice_number}", headers=chat(9))

    for response in (by_id, by_number):
        assert response.status == 409
        assert await error_code(response) == "already_paid"


async def test_someone_elses_position_and_notice_do_not_exist_for_the_caller(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 10, MARIO)
    await link(http, 11, ANNA)
    annas = await position(seeded_engine, ANNA, tax_type="TARI")
    annas_notice = await notice(http, 11, annas)

    for response in (
        await issue(http, 10, annas),
        await issue(http, 10, 999_999),
        await http.post("/v1/taxes/abc/notice", headers=chat(10)),
        await http.get(
            f"/v1/notices/{annas_notice['notice_number']}", headers=chat(10)
        ),
        await http.get("/v1/notices/301260000000999999", headers=chat(10)),
        await http.get("/v1/notices/12345", headers=chat(10)),
    ):
        assert response.status == 404
        assert await error_code(response) == "not_found"


async def test_a_notice_is_found_by_its_number_as_printed(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 12, GIULIA)
    imu = (await positions(seeded_engine, GIULIA, tax_type="IMU", status="da_pagare"))[
        0
    ]
    number = str(imu.notice_number)
    printed = " ".join(number[i : i + 4] for i in range(0, 18, 4))

    found = await http.get(f"/v1/notices/{number}", headers=chat(12))
    spaced = await http.get(f"/v1/notices/{printed}", headers=chat(12))

    assert found.status == 200 and spaced.status == 200
    body = await found.json()
    assert body == await spaced.json()
    assert body["notice_number"] == number and body["position_id"] == imu.id
    assert body == await notice(http, 12, imu.id)


# --- the checkout ---------------------------------------------------------------------


async def test_paying_at_the_checkout_records_one_receipt_and_tells_the_citizen(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 13, ANNA)
    tari = (await positions(seeded_engine, ANNA, tax_type="TARI"))[0]
    body = await notice(http, 13, tari.id)
    path = checkout_path(body)

    page = await http.get(path)
    text_ = await page.text()
    assert page.status == 200 and page.content_type == "text/html"
    assert "Paga ora" in text_ and "Comune di Cerveteri" in text_
    assert euro(9875) == "98,75\xa0€" and euro(9875) in text_
    assert tari.description.split(",")[0] in text_
    assert f"{tari.due_date:%d/%m/%Y}" in text_

    paid = await http.post(path)

    assert paid.status == 200
    assert "Pagamento riuscito" in await paid.text()
    [event] = await events_of(http, "payment_received")
    payload = event["payload"]
    assert event["recipients"] == ["telegram:13"]
    assert payload["notice_number"] == body["notice_number"]
    assert payload["description"] == tari.description
    assert payload["tax_type"] == "TARI"
    assert payload["amount_cents"] == 9875
    assert payload["position_id"] == tari.id
    assert datetime.fromisoformat(payload["paid_at"]).tzinfo is not None
    assert re.fullmatch(r"\d{8}[0-9A-F]{12}", payload["receipt_number"])
    listed = {item["id"]: item for item in await taxes(http, 13)}
    assert listed[tari.id]["status"] == "pagato"
    assert listed[tari.id]["payable"] is False

    # The receipt link works without the API key, for the bot to download.
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(payload["receipt_url"]) as receipt:
            assert receipt.status == 200
            assert receipt.content_type == "application/pdf"
            assert (await receipt.read()).startswith(b"%PDF")

    again = await http.post(path)
    assert again.status == 409 and "già pagato" in await again.text()
    shown = await http.get(path)
    assert shown.status == 200 and "già pagato" in await shown.text()
    assert len(await events_of(http, "payment_received")) == 1
    assert await count(seeded_engine, models.PaymentReceipt) == 1
    response = await issue(http, 13, tari.id)
    assert await error_code(response) == "already_paid"


async def set_checkout_expiry(engine: AsyncEngine, value: datetime) -> None:
    async with create_sessionmaker(engine).begin() as session:
        await session.execute(
            update(models.PaymentNotice).values(checkout_expires_at=value)
        )


async def test_a_paid_notices_link_says_already_paid_and_opens_nothing_more(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 31, GIULIA)
    tari = await position(seeded_engine, GIULIA, tax_type="TARI")
    path = checkout_path(await notice(http, 31, tari))
    paid = await http.post(path)
    assert paid.status == 200 and "/receipts/" in await paid.text()

    shown = await http.get(path)
    again = await http.post(path)
    await set_checkout_expiry(seeded_engine, datetime.now(UTC) - timedelta(days=1))
    later = await http.get(path)

    for response, status in ((shown, 200), (again, 409), (later, 200)):
        page = await response.text()
        assert response.status == status
        assert "già pagato" in page
        assert "Paga ora" not in page and "<form" not in page
        # The receipt carries the payer's name: it went to the chat, not to the link.
        assert "/receipts/" not in page and "Scarica la ricevuta" not in page
    assert await count(seeded_engine, models.PaymentReceipt) == 1


async def test_a_checkout_link_expires_and_asking_again_gives_a_fresh_one(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 32, ANNA)
    tari = (await positions(seeded_engine, ANNA, tax_type="TARI"))[0].id
    before = datetime.now(UTC)
    first = await notice(http, 32, tari)
    async with create_sessionmaker(seeded_engine)() as session:
        expires = await session.scalar(select(models.PaymentNotice.checkout_expires_at))
    assert expires is not None
    assert before + timedelta(hours=23) < expires <= datetime.now(UTC) + timedelta(hours=24)
    # Asked again while it works: the same link.
    assert (await notice(http, 32, tari))["checkout_url"] == first["checkout_url"]

    await set_checkout_expiry(seeded_engine, datetime.now(UTC) - timedelta(minutes=1))
    old = checkout_path(first)
    shown, paid = await http.get(old), await http.post(old)

    for response in (shown, paid):
        assert response.status == 410
        page = await response.text()
        assert "scaduto" in page and "Paga ora" not in page
    assert await count(seeded_engine, models.PaymentReceipt) == 0
    renewed = await notice(http, 32, tari)
    assert renewed["notice_number"] == first["notice_number"]
    assert renewed["checkout_url"] != first["checkout_url"]
    assert (await http.get(old)).status == 404, "the old link is gone for good"
    page = await http.get(checkout_path(renewed))
    assert page.status == 200 and "Paga ora" in await page.text()


async def test_two_payments_at_once_leave_exactly_one_receipt(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 14, GIULIA)
    tari = await position(seeded_engine, GIULIA, tax_type="TARI")
    path = checkout_path(await notice(http, 14, tari))

    responses = await asyncio.gather(*(http.post(path) for _ in range(6)))

    statuses = sorted(response.status for response in responses)
    assert statuses == [200, 409, 409, 409, 409, 409]
    assert await count(seeded_engine, models.PaymentReceipt) == 1
    assert len(await events_of(http, "payment_received")) == 1


async def test_an_unknown_checkout_is_a_page_saying_so(http: Client) -> None:
    for response in (await http.get("/checkout/nope"), await http.post("/checkout/nope")):
        assert response.status == 404
        assert "non è valido" in await response.text()


async def test_a_receipt_link_cannot_be_forged_or_borrowed_from_a_certificate(
    http: Client,
) -> None:
    now = datetime.now(UTC)
    forged = sign_receipt_token("not-the-secret", 1, now)
    certificate_token = sign_file_token(FILE_SECRET, 1, now)
    expired = sign_receipt_token(FILE_SECRET, 1, now - timedelta(days=8))

    for token in (forged, certificate_token, "1.2.3", "garbage"):
        response = await http.get(f"/receipts/{token}")
        assert response.status == 404
    response = await http.get(f"/receipts/{expired}")
    assert response.status == 410


# --- preferences and reminders --------------------------------------------------------


async def test_a_citizen_turns_reminders_off_and_on(http: Client) -> None:
    await link(http, 15, ANNA)
    me = await http.get("/v1/me", headers=chat(15))
    assert (await me.json())["tax_reminders"] is True

    off = await http.put(
        "/v1/me/preferences", json={"tax_reminders": False}, headers=chat(15)
    )
    assert off.status == 200 and (await off.json())["tax_reminders"] is False
    me = await http.get("/v1/me", headers=chat(15))
    assert (await me.json())["tax_reminders"] is False
    bad = await http.put(
        "/v1/me/preferences", json={"tax_reminders": "no"}, headers=chat(15)
    )
    assert bad.status == 400


async def _only_due(
    engine: AsyncEngine, fiscal_code: str, position_id: int, due: date
) -> None:
    """Make `position_id` the citizen's only position due soon; the others far later."""
    for row in await positions(engine, fiscal_code):
        later = due + timedelta(days=200)
        await set_position(engine, row.id, due_date=due if row.id == position_id else later)


async def run_reminders(http: Client, today: date) -> int:
    response = await http.post(
        "/v1/jobs/payment-reminders", json={"today": today.isoformat()}, headers=AUTH
    )
    assert response.status == 200, await response.text()
    return int((await response.json())["queued"])


async def test_a_reminder_is_queued_once_for_a_linked_citizen_who_wants_it(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 16, GIULIA)
    canteen = await position(seeded_engine, GIULIA, tax_type="MENSA")
    due = date(2031, 3, 10)
    await _only_due(seeded_engine, GIULIA, canteen, due)
    # Not linked to any chat: nobody to remind.
    anna = await position(seeded_engine, ANNA, tax_type="TARI")
    await _only_due(seeded_engine, ANNA, anna, due)

    assert await run_reminders(http, due - timedelta(days=6)) == 0
    assert await run_reminders(http, due - timedelta(days=5)) == 1
    assert await run_reminders(http, due - timedelta(days=2)) == 0

    [event] = await events_of(http, "payment_reminder")
    assert event["recipients"] == ["telegram:16"]
    payload = event["payload"]
    row = (await positions(seeded_engine, GIULIA, tax_type="MENSA"))[0]
    assert payload == {
        "position_id": canteen,
        "description": row.description,
        "tax_type": "MENSA",
        "amount_cents": row.amount_cents,
        "due_date": "2031-03-10",
        "notice_number": row.notice_number,
    }
    assert row.reminded_at is not None


async def test_no_reminder_for_who_opted_out_until_they_opt_in_again(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 17, ANNA)
    tari = await position(seeded_engine, ANNA, tax_type="TARI")
    due = date(2031, 3, 10)
    await _only_due(seeded_engine, ANNA, tari, due)
    await http.put("/v1/me/preferences", json={"tax_reminders": False}, headers=chat(17))

    assert await run_reminders(http, due - timedelta(days=1)) == 0

    await http.put("/v1/me/preferences", json={"tax_reminders": True}, headers=chat(17))
    assert await run_reminders(http, due - timedelta(days=1)) == 1


async def test_no_reminder_for_paid_or_overdue_positions(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 18, MARIO)
    paid = (await positions(seeded_engine, MARIO, status="pagato"))[0]
    due = date(2031, 3, 10)
    await _only_due(seeded_engine, MARIO, paid.id, due)

    assert await run_reminders(http, due - timedelta(days=1)) == 0
    assert await run_reminders(http, due + timedelta(days=1)) == 0

    await link(http, 19, GIULIA)
    canteen = await position(seeded_engine, GIULIA, tax_type="MENSA")
    await _only_due(seeded_engine, GIULIA, canteen, due)
    await http.post(checkout_path(await notice(http, 19, canteen)))
    assert await run_reminders(http, due - timedelta(days=1)) == 0
    assert await events_of(http, "payment_reminder") == []


async def test_the_reminder_job_refuses_a_malformed_day(http: Client) -> None:
    for body in ({"today": "26/11/2026"}, {"today": 20261126}):
        response = await http.post(
            "/v1/jobs/payment-reminders", json=body, headers=AUTH
        )
        assert response.status == 400
    unauthorised = await http.post("/v1/jobs/payment-reminders", json={})
    assert unauthorised.status == 401
    default_day = await http.post("/v1/jobs/payment-reminders", headers=AUTH)
    assert default_day.status == 200


async def test_the_back_office_sends_reminders_by_itself_and_stops_cleanly(
    database_url: str,
    seeded_engine: AsyncEngine,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tax_routes, "REMINDER_FIRST_RUN_DELAY_SECONDS", 0.5)
    canteen = await position(seeded_engine, GIULIA, tax_type="MENSA")
    await _only_due(seeded_engine, GIULIA, canteen, rome_today() + timedelta(days=1))
    settings = make_settings(database_url)
    assert settings.payment_reminder_interval_seconds == 3600
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with TestClient(server) as http:
            await link(http, 20, GIULIA)
            for _ in range(100):
                if await events_of(http, "payment_reminder"):
                    break
                await asyncio.sleep(0.1)
            [event] = await events_of(http, "payment_reminder")
            assert event["payload"]["position_id"] == canteen
    finally:
        await server.close()


# --- the migration --------------------------------------------------------------------


async def test_upgrading_from_0002_keeps_citizens_and_turns_their_reminders_on(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0002")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO citizens (id, fiscal_code, given_name, family_name, created_at)"
                " VALUES (1, 'RSSMRA50C12C552D', 'Mario', 'Rossi', :now)"
            ),
            {"now": datetime.now(UTC)},
        )

    await migrate(engine, "0003")

    async with engine.connect() as connection:
        reminders = await connection.scalar(
            text("SELECT tax_reminders FROM citizens WHERE id = 1")
        )
        tables = await connection.run_sync(
            lambda sync: set(sa.inspect(sync).get_table_names())
        )
    assert bool(reminders) is True
    assert {"payment_notices", "payment_receipts"} <= tables

    await downgrade(engine, "0002")

    async with engine.connect() as connection:
        tables = await connection.run_sync(
            lambda sync: set(sa.inspect(sync).get_table_names())
        )
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("citizens")}
        )
    assert not {"payment_notices", "payment_receipts"} & tables
    assert "tax_reminders" not in columns


async def test_no_reminder_job_runs_when_its_interval_is_zero(
    database_url: str,
    seeded_engine: AsyncEngine,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tax_routes, "REMINDER_FIRST_RUN_DELAY_SECONDS", 0.1)
    canteen = await position(seeded_engine, GIULIA, tax_type="MENSA")
    await _only_due(seeded_engine, GIULIA, canteen, rome_today() + timedelta(days=1))
    settings = make_settings(database_url).model_copy(
        update={"payment_reminder_interval_seconds": 0.0}
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with TestClient(server) as http:
            await link(http, 21, GIULIA)
            await asyncio.sleep(0.5)
            assert await events_of(http, "payment_reminder") == []
            assert await run_reminders(http, rome_today()) == 1
    finally:
        await server.close()
