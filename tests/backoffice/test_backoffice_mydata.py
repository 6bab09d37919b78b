"""I miei dati: the citizen's export and erasure, on SQLite and PostgreSQL; nobody else's data ever."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client import BackOfficeClient
from backoffice.db import create_sessionmaker, models
from backoffice.db.seed import DEMO_CITIZENS
from backoffice.events.repository import EventRepository
from tests.backoffice.test_backoffice_practices import SEGNALAZIONE, submit, upload_id
from tests.backoffice_http import Client, chat, link

MARIO, GIULIA, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)
MARIO_PRACTICE, ANNA_PRACTICE = "2026/000118", "2026/000119"


async def my_data(http: Client, user: int) -> dict[str, Any]:
    response = await http.get("/v1/me/data", headers=chat(user))
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def erase(http: Client, user: int) -> dict[str, Any]:
    response = await http.delete("/v1/me/data", headers=chat(user))
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def citizen_id(engine: AsyncEngine, fiscal_code: str) -> int:
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(select(models.Citizen.id).where(models.Citizen.fiscal_code == fiscal_code))
    assert found is not None
    return found


async def book(engine: AsyncEngine, fiscal_code: str, code: str) -> None:
    """A booking at the anagrafe next week, written as the booking API would leave it."""
    async with create_sessionmaker(engine).begin() as session:
        service = await session.scalar(select(models.CounterService).where(models.CounterService.code == "anagrafe"))
        assert service is not None
        starts = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=7)
        session.add(
            models.Appointment(
                code=code, citizen_id=await citizen_id(engine, fiscal_code), service_id=service.id,
                starts_at=starts, desk=1, status="prenotato",
            )
        )


async def notify(engine: AsyncEngine, fiscal_code: str) -> None:
    """An event for the citizen: the outbox owes it to each chat linked now."""
    async with create_sessionmaker(engine).begin() as session:
        await EventRepository(session).append(
            "practice_status_changed", {"protocol_number": "x"}, citizen_id=await citizen_id(engine, fiscal_code)
        )


async def count(engine: AsyncEngine, statement: Any) -> int:
    async with create_sessionmaker(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(statement.subquery())) or 0)


async def test_my_data_holds_profile_links_practices_taxes_bookings_uploads_and_notices(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 8101, MARIO)
    await link(http, 8102, MARIO)
    loose = await upload_id(http, 8101)
    await book(seeded_engine, MARIO, "CE-MYD1")
    await notify(seeded_engine, MARIO)

    data = await my_data(http, 8101)

    assert data["channel_user"] == "telegram:8101"
    assert data["citizen"]["given_name"] == "Mario" and data["citizen"]["family_name"] == "Rossi"
    assert data["citizen"]["fiscal_code_masked"] == "RSS***50C12***D"
    assert MARIO not in json.dumps(data), "the full codice fiscale never goes back to the chat"
    assert [(link["channel_user"], link["this_chat"]) for link in data["links"]] == [
        ("telegram:8101", True), ("telegram:8102", False)
    ]
    practice = next(p for p in data["practices"] if p["protocol_number"] == MARIO_PRACTICE)
    assert practice["status"] == "accolta" and practice["history"], "the status history comes along"
    assert [step["status"] for step in practice["history"]][-1] == "accolta"
    assert "download_url" not in (practice["document"] or {}), "an export carries no link that opens a file"
    assert isinstance(practice["answers"], dict)
    assert data["tax_positions"] and {p["tax_type"] for p in data["tax_positions"]} >= {"TARI"}
    assert all(p["status"] in ("da_pagare", "scaduto", "pagato") for p in data["tax_positions"])
    assert [(a["code"], a["service_code"], a["status"]) for a in data["appointments"]] == [
        ("CE-MYD1", "anagrafe", "prenotato")
    ]
    assert [(u["upload_id"], u["protocol_number"]) for u in data["uploads"]] == [(loose, None)]
    assert sorted(n["channel_user"] for n in data["notifications"]) == ["telegram:8101", "telegram:8102"]
    assert {n["type"] for n in data["notifications"]} == {"practice_status_changed"}


async def test_another_citizens_data_never_appears(http: Client, seeded_engine: AsyncEngine) -> None:
    await link(http, 8111, MARIO)
    await link(http, 8112, ANNA)
    annas_file = await upload_id(http, 8112)
    await book(seeded_engine, ANNA, "CE-ANNA")
    await notify(seeded_engine, ANNA)

    marios = json.dumps(await my_data(http, 8111))
    for annas in (ANNA_PRACTICE, "Esposito", "Anna", annas_file, "CE-ANNA", "telegram:8112", ANNA[:6]):
        assert annas not in marios, annas
    annas_data = await my_data(http, 8112)
    assert ANNA_PRACTICE in [p["protocol_number"] for p in annas_data["practices"]]
    assert MARIO_PRACTICE not in json.dumps(annas_data) and "Rossi" not in json.dumps(annas_data)


async def test_a_chat_linked_to_nobody_sees_only_what_it_sent(http: Client) -> None:
    empty = await my_data(http, 8120)
    assert empty["citizen"] is None and empty["links"] == [] and empty["practices"] == []
    assert empty["tax_positions"] == [] and empty["appointments"] == [] and empty["uploads"] == []

    report = await submit(http, 8121, "segnalazione", SEGNALAZIONE)
    assert report.status == 201, await report.text()
    number = (await report.json())["protocol_number"]
    assert [p["protocol_number"] for p in (await my_data(http, 8121))["practices"]] == [number]
    assert (await my_data(http, 8120))["practices"] == [], "another chat's segnalazione is not mine"


async def test_erasing_unlinks_every_chat_deletes_loose_files_and_notices_and_keeps_the_pratiche(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 8131, MARIO)
    await link(http, 8132, MARIO)
    await link(http, 8133, ANNA)
    loose = await upload_id(http, 8131)
    annas_file = await upload_id(http, 8133)
    await book(seeded_engine, MARIO, "CE-MYD2")
    await notify(seeded_engine, MARIO)
    await notify(seeded_engine, ANNA)
    practices_before = await count(seeded_engine, select(models.Practice.id))

    erased = await erase(http, 8131)

    assert sorted(erased["unlinked"]) == ["telegram:8131", "telegram:8132"]
    assert erased["deleted"] == {"links": 2, "uploads": 1, "deliveries": 2}
    kept = {item["kind"]: item for item in erased["kept"]}
    assert set(kept) >= {"profile", "practices", "appointments"}
    assert kept["practices"]["count"] >= 1 and "legge" in kept["practices"]["reason"]
    assert kept["appointments"]["count"] == 1
    for chat_id in (8131, 8132):
        me = await http.get("/v1/me", headers=chat(chat_id))
        assert me.status == 403 and (await me.json())["error"]["code"] == "not_linked"
    after = await my_data(http, 8131)
    assert after["citizen"] is None and after["practices"] == [] and after["uploads"] == []
    assert after["notifications"] == []
    # The pratiche and the booking stay with the offices; the loose file is gone.
    assert await count(seeded_engine, select(models.Practice.id)) == practices_before
    assert await count(seeded_engine, select(models.Appointment.id).where(models.Appointment.code == "CE-MYD2")) == 1
    assert await count(seeded_engine, select(models.Upload.id).where(models.Upload.id == loose)) == 0
    # Anna is untouched: linked, her file and her notice still there.
    annas = await my_data(http, 8133)
    assert annas["citizen"]["given_name"] == "Anna"
    assert [u["upload_id"] for u in annas["uploads"]] == [annas_file]
    assert [n["channel_user"] for n in annas["notifications"]] == ["telegram:8133"]
    assert await erase(http, 8131) == {
        "unlinked": [], "deleted": {"links": 0, "uploads": 0, "deliveries": 0}, "kept": [],
    }, "erasing again erases nothing more"


async def test_erasing_keeps_a_file_that_is_part_of_a_pratica(http: Client, seeded_engine: AsyncEngine) -> None:
    await link(http, 8141, GIULIA)
    attached = await upload_id(http, 8141)
    response = await http.post(
        "/v1/practices/2026/000120/attachments", json={"upload_id": attached}, headers=chat(8141)
    )
    assert response.status == 200, await response.text()
    loose = await upload_id(http, 8141)

    erased = await erase(http, 8141)

    assert erased["deleted"]["uploads"] == 1
    remaining = select(models.Upload.id).where(models.Upload.id.in_([attached, loose]))
    async with create_sessionmaker(seeded_engine)() as session:
        assert list(await session.scalars(remaining)) == [attached]


async def test_the_typed_client_reads_and_erases(http: Client, backoffice_client: BackOfficeClient) -> None:
    await link(http, 8151, MARIO)
    data = await backoffice_client.identity.my_data("telegram:8151")
    assert data.citizen is not None and data.citizen.given_name == "Mario"
    assert MARIO_PRACTICE in [p.protocol_number for p in data.practices]
    practice = next(p for p in data.practices if p.protocol_number == MARIO_PRACTICE)
    assert practice.history and practice.status_label == "accolta"
    erased = await backoffice_client.identity.erase_my_data("telegram:8151")
    assert erased.unlinked == ("telegram:8151",)
    assert {k.kind for k in erased.kept} >= {"profile", "practices"}
    nobody = await backoffice_client.identity.my_data(f"telegram:{uuid.uuid4().int % 10**9}")
    assert nobody.citizen is None and nobody.practices == ()
