"""Linking a chat, uploading, submitting and tracking pratiche, and the office's side.

Against the real back office on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from codicefiscale import codicefiscale
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client import BackOfficeClient, UploadQuotaExceeded
from backoffice.app import create_app
from backoffice.capabilities import sign_file_token
from backoffice.db import create_sessionmaker, models
from backoffice.db.seed import DEMO_CITIZENS
from bot import texts
from sportello.settings import Settings
from tests.backoffice_http import API_KEY, AUTH, FILE_SECRET, Client, chat, link_code
from tests.backoffice_http import link as link_http

MARIO, GIULIA, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SEGNALAZIONE = {
    "category": "illuminazione",
    "location": {"latitude": 41.9956, "longitude": 12.0986},
    "description": "Lampione spento davanti al civico 8",
}


async def link(http: Client, user: int, fiscal_code: str = MARIO) -> None:
    await link_http(http, user, fiscal_code)


async def upload(
    http: Client, user: int, content: bytes = PDF, filename: str = "relazione.pdf"
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field(
        "file", content, filename=filename, content_type="application/octet-stream"
    )
    return await http.post("/v1/uploads", data=form, headers=chat(user))


async def upload_id(http: Client, user: int, content: bytes = PDF) -> str:
    response = await upload(http, user, content)
    assert response.status == 201, await response.text()
    return str((await response.json())["upload_id"])


async def submit(
    http: Client,
    user: int,
    practice_type: str,
    data: dict[str, Any],
    key: str | None = None,
) -> aiohttp.ClientResponse:
    headers = {**chat(user), "Idempotency-Key": key or uuid.uuid4().hex}
    return await http.post(
        "/v1/practices",
        json={"practice_type": practice_type, "data": data},
        headers=headers,
    )


async def cila_data(http: Client, user: int) -> dict[str, Any]:
    return {
        "property_address": "Via Roma 10, Cerveteri",
        "cadastral_data": "Foglio 12, particella 345, sub 6",
        "works_description": "Rifacimento del bagno",
        "technician": "Ing. Paolo Verdi, Ordine Ingegneri Roma n. 12345",
        "works_start_date": "2026-12-01",
        "sworn_report": await upload_id(http, user),
    }


async def events_after(http: Client, after: int = 0) -> list[dict[str, Any]]:
    response = await http.get(
        "/v1/events", params={"after": after, "limit": 500}, headers=AUTH
    )
    assert response.status == 200
    return list((await response.json())["events"])


def path(protocol_number: str) -> str:
    return "/v1/practices/" + protocol_number


async def error_code(response: aiohttp.ClientResponse) -> str:
    return str((await response.json())["error"]["code"])


# --- linking --------------------------------------------------------------------------


async def test_a_link_code_links_the_chat_and_me_shows_the_masked_fiscal_code(
    http: Client,
) -> None:
    code = await link_code(http, MARIO)

    response = await http.post(
        "/v1/channel-links", json={"code": code}, headers=chat(1)
    )

    assert response.status == 201
    assert await response.json() == {
        "given_name": "Mario",
        "fiscal_code_masked": "RSS***50C12***D",
        "tax_reminders": True,
    }
    me = await http.get("/v1/me", headers=chat(1))
    assert me.status == 200
    assert await me.json() == {
        "given_name": "Mario",
        "fiscal_code_masked": "RSS***50C12***D",
        "tax_reminders": True,
    }
    assert MARIO not in await me.text()


async def test_link_codes_look_like_xxxx_xxxx_without_ambiguous_characters_and_last_15_minutes(
    http: Client,
) -> None:
    response = await http.post(
        "/v1/link-codes", json={"fiscal_code": MARIO.lower()}, headers=AUTH
    )

    body = await response.json()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", body["code"])
    expires_at = datetime.fromisoformat(body["expires_at"])
    remaining = expires_at - datetime.now(UTC)
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)


async def test_a_link_code_for_an_unknown_fiscal_code_is_not_found(
    http: Client,
) -> None:
    response = await http.post(
        "/v1/link-codes", json={"fiscal_code": "BNCLRA80A01H501X"}, headers=AUTH
    )

    assert response.status == 404
    assert await error_code(response) == "citizen_not_found"


async def test_the_code_is_accepted_in_lower_case_and_without_the_dash(
    http: Client,
) -> None:
    code = await link_code(http, MARIO)

    response = await http.post(
        "/v1/channel-links",
        json={"code": code.replace("-", "").lower()},
        headers=chat(2),
    )

    assert response.status == 201


async def test_a_wrong_link_code_is_refused_as_invalid(http: Client) -> None:
    response = await http.post(
        "/v1/channel-links", json={"code": "AAAA-BBBB"}, headers=chat(3)
    )

    assert response.status == 404
    assert await error_code(response) == "invalid_link_code"
    assert (await http.get("/v1/me", headers=chat(3))).status == 403


async def test_an_expired_link_code_is_refused_as_expired(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    code = await link_code(http, MARIO)
    async with create_sessionmaker(seeded_engine).begin() as session:
        await session.execute(
            update(models.LinkCode).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        )

    response = await http.post(
        "/v1/channel-links", json={"code": code}, headers=chat(4)
    )

    assert response.status == 410
    assert await error_code(response) == "expired_link_code"


async def test_a_used_link_code_cannot_link_a_second_chat(http: Client) -> None:
    code = await link_code(http, MARIO)
    first = await http.post("/v1/channel-links", json={"code": code}, headers=chat(5))

    second = await http.post("/v1/channel-links", json={"code": code}, headers=chat(6))

    assert first.status == 201
    assert second.status == 410
    assert await error_code(second) == "expired_link_code"
    assert (await http.get("/v1/me", headers=chat(6))).status == 403


async def test_after_five_wrong_codes_even_a_right_one_is_refused_for_a_while(
    http: Client,
) -> None:
    for _ in range(5):
        wrong = await http.post(
            "/v1/channel-links", json={"code": "ZZZZ-ZZZZ"}, headers=chat(7)
        )
        assert wrong.status == 404
    code = await link_code(http, MARIO)

    response = await http.post(
        "/v1/channel-links", json={"code": code}, headers=chat(7)
    )

    assert response.status == 429
    assert await error_code(response) == "too_many_attempts"
    assert int(response.headers["Retry-After"]) > 0
    # Another chat account is not affected.
    other = await http.post("/v1/channel-links", json={"code": code}, headers=chat(8))
    assert other.status == 201


async def test_a_successful_link_clears_the_failed_attempts(http: Client) -> None:
    for _ in range(4):
        await http.post(
            "/v1/channel-links", json={"code": "ZZZZ-ZZZZ"}, headers=chat(9)
        )
    await link(http, 9)

    for _ in range(4):
        await http.post(
            "/v1/channel-links", json={"code": "ZZZZ-ZZZZ"}, headers=chat(9)
        )
    code = await link_code(http, GIULIA)
    response = await http.post(
        "/v1/channel-links", json={"code": code}, headers=chat(9)
    )

    assert response.status == 201


async def test_linking_a_chat_to_someone_else_replaces_the_link(http: Client) -> None:
    await link(http, 10, MARIO)

    await link(http, 10, GIULIA)

    me = await (await http.get("/v1/me", headers=chat(10))).json()
    assert me["given_name"] == "Giulia"


async def test_unlinking_leaves_the_chat_not_linked(http: Client) -> None:
    await link(http, 11)

    response = await http.delete("/v1/channel-links/me", headers=chat(11))

    assert response.status == 204
    me = await http.get("/v1/me", headers=chat(11))
    assert me.status == 403
    assert await error_code(me) == "not_linked"
    again = await http.delete("/v1/channel-links/me", headers=chat(11))
    assert again.status == 403


async def test_citizen_calls_need_a_well_formed_x_channel_user(http: Client) -> None:
    missing = await http.get("/v1/me", headers=AUTH)
    malformed = await http.get("/v1/me", headers={**AUTH, "X-Channel-User": "123"})

    assert missing.status == 400
    assert malformed.status == 400


# --- catalogue ------------------------------------------------------------------------


async def test_one_practice_type_has_a_question_per_field_and_the_nlu_categories(
    http: Client,
) -> None:
    response = await http.get("/v1/practice-types/segnalazione", headers=AUTH)

    body = await response.json()
    assert response.status == 200
    fields = {field["name"]: field for field in body["fields"]}
    assert fields["category"]["choices"] == [
        "illuminazione",
        "strade",
        "rifiuti",
        "verde",
        "altro",
    ]
    assert fields["photo"]["question"] == "Mandami la foto del problema (facoltativa)."
    assert all(field["question"].strip() for field in body["fields"])
    missing = await http.get("/v1/practice-types/astronautica", headers=AUTH)
    assert missing.status == 404


# --- uploads --------------------------------------------------------------------------


async def test_uploads_accept_pdf_jpeg_and_png_by_their_bytes(http: Client) -> None:
    await link(http, 20)
    for content, content_type in (
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
    ):
        response = await upload(http, 20, content, filename="whatever.bin")

        assert response.status == 201
        body = await response.json()
        assert body["content_type"] == content_type
        assert body["size"] == len(content)
        assert body["filename"] == "whatever.bin"
        assert re.fullmatch(r"[0-9a-f]{32}", body["upload_id"])


async def test_an_upload_that_is_not_pdf_jpeg_or_png_is_refused_whatever_its_name(
    http: Client,
) -> None:
    await link(http, 21)
    response = await upload(http, 21, b"MZ\x90\x00 an executable", "foto.jpg")

    assert response.status == 415
    assert await error_code(response) == "unsupported_file_type"


async def test_an_upload_over_20_mb_is_refused(http: Client) -> None:
    await link(http, 22)
    content = PDF + b"\x00" * (20 * 1024 * 1024)

    response = await upload(http, 22, content)

    assert response.status == 413
    assert await error_code(response) == "file_too_large"


async def test_an_upload_needs_the_file_field(http: Client) -> None:
    await link(http, 23)
    form = aiohttp.FormData()
    form.add_field("other", PDF, filename="a.pdf")

    response = await http.post("/v1/uploads", data=form, headers=chat(23))

    assert response.status == 400


async def test_a_chat_linked_to_nobody_cannot_upload(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    response = await upload(http, 24, PNG, "foto.png")

    assert response.status == 403
    assert await error_code(response) == "not_linked"
    async with create_sessionmaker(seeded_engine)() as session:
        stored = await session.scalar(select(func.count()).select_from(models.Upload))
    assert stored == 0


@pytest_asyncio.fixture
async def small_quota(
    database_url: str, seeded_engine: AsyncEngine, make_settings: Callable[..., Settings]
) -> AsyncIterator[Client]:
    """The back office with a quota of 3 files and 1 MB a day per citizen."""
    settings = make_settings(database_url).model_copy(
        update={"upload_quota_files": 3, "upload_quota_mb": 1}
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    async with TestClient(server) as client:
        yield client
    await server.close()


async def test_a_citizen_uploads_at_most_the_quotas_files_a_day(small_quota: Client) -> None:
    http = small_quota
    await link(http, 25, MARIO)
    await link(http, 26, MARIO)  # a second chat of the same citizen shares the quota
    await link(http, 27, GIULIA)
    statuses = [(await upload(http, user, PDF)).status for user in (25, 26, 25)]

    refused = await upload(http, 26, PDF)

    assert statuses == [201, 201, 201]
    assert refused.status == 429
    body = (await refused.json())["error"]
    assert body["code"] == "upload_quota_exceeded"
    assert (body["max_files"], body["max_mb"]) == (3, 1)
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600 + 1
    assert (await upload(http, 27, PDF)).status == 201, "another citizen's quota is apart"


async def test_a_citizen_uploads_at_most_the_quotas_megabytes_a_day(
    small_quota: Client,
) -> None:
    http = small_quota
    await link(http, 28, ANNA)
    big = PDF + b"\x00" * (600 * 1024)

    first = await upload(http, 28, big)
    second = await upload(http, 28, big)

    assert first.status == 201
    assert second.status == 429
    assert await error_code(second) == "upload_quota_exceeded"
    assert (await upload(http, 28, PDF)).status == 201, "a small one still fits"


async def test_the_chat_is_told_the_quota_and_when_to_try_again(small_quota: Client) -> None:
    await link(small_quota, 30, GIULIA)
    async with aiohttp.ClientSession() as session:
        client = BackOfficeClient(session, str(small_quota.make_url("/")), API_KEY)
        for _ in range(3):
            await client.practices.upload("telegram:30", PDF, "a.pdf", "application/pdf")
        try:
            await client.practices.upload("telegram:30", PDF, "a.pdf", "application/pdf")
        except UploadQuotaExceeded as error:
            refused = error
        else:
            raise AssertionError("the fourth file went through")

    assert (refused.max_files, refused.max_mb) == (3, 1)
    assert refused.retry_after is not None and refused.retry_after > 23 * 3600
    said = texts.file_quota_reached(refused.max_files, refused.max_mb, refused.retry_after)
    assert "al massimo 3 file e 1 MB in 24 ore" in said
    assert "tra circa 24 ore" in said and "persona" in said


async def test_files_part_of_no_pratica_are_deleted_after_a_day(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 29, GIULIA)
    data = await cila_data(http, 29)  # its sworn report becomes part of the pratica
    stray = await upload_id(http, 29)
    assert (await submit(http, 29, "cila", data)).status == 201
    async with create_sessionmaker(seeded_engine).begin() as session:
        await session.execute(
            update(models.Upload).values(created_at=datetime.now(UTC) - timedelta(hours=25))
        )
    fresh = await upload_id(http, 29)

    cleaned = await http.post("/v1/jobs/housekeeping", headers=AUTH)

    assert cleaned.status == 200
    assert (await cleaned.json())["deleted"]["uploads"] == 1
    async with create_sessionmaker(seeded_engine)() as session:
        left = set(await session.scalars(select(models.Upload.id)))
    assert left == {data["sworn_report"], fresh} and stray not in left


# --- submission -----------------------------------------------------------------------


async def test_submitting_a_cila_files_it_presentata_with_the_next_protocol_and_an_event(
    http: Client,
) -> None:
    await link(http, 30)
    before = await events_after(http)
    data = await cila_data(http, 30)

    response = await submit(http, 30, "cila", data)

    assert response.status == 201, await response.text()
    detail = await response.json()
    year = datetime.now(UTC).year
    # The seeded pratiche of the year go up to 123.
    assert detail["protocol_number"] == f"{year}/000124"
    assert detail["practice_type"]["code"] == "cila"
    assert detail["status"] == "presentata"
    assert detail["status_label"] == "presentata"
    assert detail["next_step"]
    assert [entry["status"] for entry in detail["history"]] == ["presentata"]
    assert detail["document"] is None
    assert [a["upload_id"] for a in detail["attachments"]] == [data["sworn_report"]]
    [event] = (await events_after(http, before[-1]["id"] if before else 0))[-1:]
    assert event["type"] == "practice_submitted"
    assert event["payload"]["protocol_number"] == detail["protocol_number"]
    assert event["recipients"] == ["telegram:30"]


async def test_submitting_without_an_idempotency_key_is_refused(http: Client) -> None:
    await link(http, 31)

    response = await http.post(
        "/v1/practices",
        json={"practice_type": "segnalazione", "data": SEGNALAZIONE},
        headers=chat(31),
    )

    assert response.status == 400


async def test_submitting_needs_a_linked_citizen_except_for_a_segnalazione(
    http: Client,
) -> None:
    cila = await submit(http, 32, "cila", {"property_address": "Via Roma 10, Cerveteri"})
    report = await submit(http, 32, "segnalazione", SEGNALAZIONE)

    assert cila.status == 403
    assert await error_code(cila) == "not_linked"
    assert report.status == 201
    detail = await report.json()
    # The anonymous submitter can follow it; nobody else can.
    mine = await http.get(path(detail["protocol_number"]), headers=chat(32))
    theirs = await http.get(path(detail["protocol_number"]), headers=chat(33))
    assert mine.status == 200
    assert theirs.status == 403


async def test_submission_data_errors_come_back_per_field_in_italian(
    http: Client,
) -> None:
    await link(http, 34)
    await link(http, 35, GIULIA)
    someone_elses = await upload_id(http, 35)

    response = await submit(
        http,
        34,
        "cila",
        {
            "property_address": "   ",
            "cadastral_data": "x" * 2001,
            "works_description": 42,
            "technician": "Ing. Verdi",
            "works_start_date": "01/12/2026",
            "sworn_report": someone_elses,
            "colour": "blu",
        },
    )

    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_data"
    assert set(error["fields"]) == {
        "property_address",
        "cadastral_data",
        "works_description",
        "works_start_date",
        "sworn_report",
        "colour",
    }
    assert "obbligatorio" in error["fields"]["property_address"]
    assert "AAAA-MM-GG" in error["fields"]["works_start_date"]


async def test_choices_locations_dates_and_codici_fiscali_are_checked(
    http: Client,
) -> None:
    await link(http, 36)

    report = await submit(
        http,
        36,
        "segnalazione",
        {
            "category": "verde_pubblico",
            "location": {"latitude": 95.0, "longitude": 12.0},
            "description": "Albero caduto",
        },
    )
    certificate = await submit(
        http,
        36,
        "certificato_residenza",
        {"subject_fiscal_code": "RSSMRA50C12C552X", "use": "in bollo"},
    )
    occupation = await submit(
        http,
        36,
        "occupazione_suolo",
        {
            "purpose": "trasloco",
            "address": "Piazza Santa Maria 3",
            "start_date": "2026-02-30",
            "end_date": "2026-03-01",
            "area_m2": "20",
        },
    )

    report_fields = (await report.json())["error"]["fields"]
    assert set(report_fields) == {"category", "location"}
    assert (await certificate.json())["error"]["fields"].keys() == {
        "subject_fiscal_code"
    }
    assert (await occupation.json())["error"]["fields"].keys() == {"start_date"}


async def test_replaying_a_submission_with_the_same_key_returns_the_same_pratica(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 37)
    key = uuid.uuid4().hex

    first = await submit(http, 37, "segnalazione", SEGNALAZIONE, key)
    again = await submit(http, 37, "segnalazione", SEGNALAZIONE, key)

    assert first.status == 201
    assert again.status in (200, 201)
    assert await again.json() == await first.json()
    assert await _count_practices(seeded_engine, "telegram:37") == 1


async def test_a_key_older_than_a_day_is_a_new_submission(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 36)
    key = uuid.uuid4().hex
    first = await (await submit(http, 36, "segnalazione", SEGNALAZIONE, key)).json()
    async with create_sessionmaker(seeded_engine).begin() as session:
        await session.execute(
            update(models.IdempotencyRecord).values(
                created_at=datetime.now(UTC) - timedelta(hours=25)
            )
        )

    again = await submit(http, 36, "segnalazione", SEGNALAZIONE, key)

    assert again.status == 201
    assert (await again.json())["protocol_number"] != first["protocol_number"]
    assert await _count_practices(seeded_engine, "telegram:36") == 2


async def test_concurrent_replays_with_the_same_key_file_one_pratica(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 38)
    key = uuid.uuid4().hex

    responses = await asyncio.gather(
        *(submit(http, 38, "segnalazione", SEGNALAZIONE, key) for _ in range(6))
    )

    bodies = [await response.json() for response in responses]
    assert all(response.status in (200, 201) for response in responses), bodies
    assert all(body == bodies[0] for body in bodies)
    assert await _count_practices(seeded_engine, "telegram:38") == 1


async def test_the_same_key_with_a_different_request_is_refused(http: Client) -> None:
    await link(http, 39)
    key = uuid.uuid4().hex
    await submit(http, 39, "segnalazione", SEGNALAZIONE, key)

    other = await submit(
        http, 39, "segnalazione", {**SEGNALAZIONE, "description": "Buca"}, key
    )

    assert other.status == 409
    assert await error_code(other) == "idempotency_key_reused"


async def test_concurrent_submissions_get_distinct_protocol_numbers(
    http: Client,
) -> None:
    responses = await asyncio.gather(
        *(submit(http, 100 + n, "segnalazione", SEGNALAZIONE) for n in range(8))
    )

    bodies = [await response.json() for response in responses]
    assert all(response.status == 201 for response in responses), bodies
    numbers = [body["protocol_number"] for body in bodies]
    assert len(set(numbers)) == len(numbers)


async def _count_practices(engine: AsyncEngine, channel_user: str) -> int:
    async with create_sessionmaker(engine)() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(models.Practice)
            .where(models.Practice.submitted_by == channel_user)
        )
    return int(count or 0)


# --- certificates ---------------------------------------------------------------------


async def test_a_certificate_is_issued_at_once_as_a_pdf_anyone_can_verify(
    http: Client,
) -> None:
    await link(http, 40)

    response = await submit(
        http,
        40,
        "certificato_residenza",
        {"subject_fiscal_code": MARIO, "use": "in carta libera (esente)"},
    )

    assert response.status == 201, await response.text()
    detail = await response.json()
    assert detail["status"] == "accolta"
    assert [h["status"] for h in detail["history"]] == ["presentata", "accolta"]
    document = detail["document"]
    number = detail["protocol_number"].replace("/", "-")
    assert document["filename"] == f"certificato-residenza-{number}.pdf"
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{10}", document["verification_code"])
    # The capability URL works without the API key.
    download = await http.get(_local(document["download_url"]))
    assert download.status == 200
    assert download.content_type == "application/pdf"
    assert (await download.read()).startswith(b"%PDF")
    page = await http.get("/verify/" + document["verification_code"].lower())
    text = await page.text()
    assert page.status == 200
    assert "autentico" in text
    assert detail["protocol_number"] in text
    assert "Certificato di residenza" in text
    assert MARIO not in text and "Rossi" not in text


async def test_a_certificate_defaults_to_the_linked_citizen_and_not_to_others(
    http: Client,
) -> None:
    await link(http, 41, GIULIA)

    own = await submit(http, 41, "stato_famiglia", {"use": "in bollo"})
    others = await submit(
        http,
        41,
        "certificato_residenza",
        {"subject_fiscal_code": MARIO, "use": "in bollo"},
    )

    assert own.status == 201
    own_detail = await own.json()
    assert own_detail["document"]["filename"].startswith("certificato-stato-famiglia-")
    assert others.status == 422
    assert "subject_fiscal_code" in (await others.json())["error"]["fields"]


async def test_an_unknown_verification_code_says_not_found(http: Client) -> None:
    page = await http.get("/verify/ABCDEFGHJK")

    assert page.status == 404
    assert "non trovato" in (await page.text()).lower()


async def test_a_download_url_expires_after_an_hour_and_cannot_be_forged(
    http: Client,
) -> None:
    await link(http, 42)
    detail = await (
        await submit(http, 42, "certificato_residenza", {"use": "in bollo"})
    ).json()
    token = _local(detail["document"]["download_url"]).rsplit("/", 1)[1]
    document_id = int(token.split(".")[0])

    expired = sign_file_token(
        FILE_SECRET, document_id, datetime.now(UTC) - timedelta(hours=1, seconds=1)
    )
    forged = f"{document_id}.{int(datetime.now(UTC).timestamp()) + 3600}.AAAA"
    stale = await http.get(f"/files/{expired}")
    fake = await http.get(f"/files/{forged}")

    assert stale.status == 410
    assert fake.status == 404
    again = await http.get(path(detail["protocol_number"]), headers=chat(42))
    fresh = (await again.json())["document"]["download_url"]
    assert (await http.get(_local(fresh))).status == 200


def pdf_text(pdf: bytes) -> str:
    """The text drawn on a PDF's pages (fpdf2 writes it deflated, in plain Tj strings)."""
    pages = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:  # the data may end in a CR or LF byte itself: the decompressor stops at its own end
            pages.append(zlib.decompressobj().decompress(stream).decode("latin-1"))
        except zlib.error:
            pages.append(stream.decode("latin-1"))
    return "\n".join(pages)


def _fiscal_code(family: str, given: str, gender: str, born: str) -> str:
    return str(
        codicefiscale.encode(
            lastname=family, firstname=given, gender=gender, birthdate=born, birthplace="C552"
        )
    )


async def _stato_di_famiglia(http: Client, user: int) -> str:
    response = await submit(http, user, "stato_famiglia", {"use": "in bollo"})
    assert response.status == 201, await response.text()
    document = (await response.json())["document"]
    return pdf_text(await (await http.get(_local(document["download_url"]))).read())


async def test_stato_di_famiglia_lists_the_household_not_whoever_shares_the_address(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    # The Ferri family lives where Giulia Bianchi lives, by the address text; Paolo's
    # address is spelled another way. The anagrafe's family sheet is what counts.
    lucia = _fiscal_code("Ferri", "Lucia", "F", "02/03/1980")
    paolo = _fiscal_code("Ferri", "Paolo", "M", "14/09/1978")
    async with create_sessionmaker(seeded_engine).begin() as session:
        session.add_all(
            [
                models.Citizen(
                    fiscal_code=lucia,
                    given_name="Lucia",
                    family_name="Ferri",
                    address="Via Roma 45, 00052 Cerveteri (RM)",
                    household_id="F-009001",
                ),
                models.Citizen(
                    fiscal_code=paolo,
                    given_name="Paolo",
                    family_name="Ferri",
                    address="via Roma, 45 - 00052 CERVETERI",
                    household_id="F-009001",
                ),
            ]
        )
    await link(http, 44, lucia)
    await link(http, 45, GIULIA)

    ferri = await _stato_di_famiglia(http, 44)
    bianchi = await _stato_di_famiglia(http, 45)

    assert "- Lucia Ferri" in ferri and "- Paolo Ferri" in ferri
    assert "Bianchi" not in ferri
    assert "- Giulia Bianchi" in bianchi
    assert "Ferri" not in bianchi


async def test_stato_di_famiglia_without_a_known_family_is_asked_at_the_desk(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    async with create_sessionmaker(seeded_engine).begin() as session:
        await session.execute(
            update(models.Citizen)
            .where(models.Citizen.fiscal_code == ANNA)
            .values(household_id=None)
        )
    await link(http, 46, ANNA)

    response = await submit(http, 46, "stato_famiglia", {"use": "in bollo"})

    assert response.status == 422
    message = (await response.json())["error"]["fields"]["subject_fiscal_code"]
    assert "famiglia" in message and "sportello" in message


def _local(url: str) -> str:
    """The path of an absolute URL of the server under test."""
    return "/" + url.split("/", 3)[3]


# --- tracking -------------------------------------------------------------------------


async def test_the_citizen_lists_their_pratiche_newest_first(http: Client) -> None:
    await link(http, 50, ANNA)
    submitted = await (await submit(http, 50, "segnalazione", SEGNALAZIONE)).json()

    response = await http.get("/v1/practices", headers=chat(50))

    practices = (await response.json())["practices"]
    assert practices[0]["protocol_number"] == submitted["protocol_number"]
    # Anna's seeded pratiche, without the bozza of someone else.
    assert {p["practice_type"]["code"] for p in practices} == {
        "segnalazione",
        "cila",
        "stato_famiglia",
    }
    created = [p["created_at"] for p in practices]
    assert created == sorted(created, reverse=True)
    assert (await http.get("/v1/practices", headers=chat(51))).status == 403


async def test_someone_elses_protocol_is_refused_exactly_like_a_missing_one(
    http: Client,
) -> None:
    await link(http, 52, MARIO)
    year = datetime.now(UTC).year

    giulias = await http.get(f"/v1/practices/{year}/000120", headers=chat(52))
    missing = await http.get(f"/v1/practices/{year}/999999", headers=chat(52))
    malformed = await http.get("/v1/practices/20x6/12", headers=chat(52))

    assert giulias.status == missing.status == malformed.status == 404
    bodies = [await r.json() for r in (giulias, missing, malformed)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["error"]["code"] == "practice_not_found"


async def test_a_chat_linked_to_nobody_is_told_no_status_whatever_it_knows(
    http: Client,
) -> None:
    year = datetime.now(UTC).year
    giulias = f"/v1/practices/{year}/000120"

    # The number and the owner's codice fiscale (both guessable) open nothing.
    with_code = await http.get(
        giulias, params={"fiscal_code": GIULIA.lower()}, headers=chat(53)
    )
    bare = await http.get(giulias, headers=chat(53))
    missing = await http.get(f"/v1/practices/{year}/999999", headers=chat(53))

    assert with_code.status == bare.status == missing.status == 403
    bodies = [await r.json() for r in (with_code, bare, missing)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["error"]["code"] == "not_linked"
    assert "integrazione" not in await with_code.text()


async def test_another_citizens_chat_is_told_no_status_even_with_the_owners_code(
    http: Client,
) -> None:
    await link(http, 54, MARIO)
    year = datetime.now(UTC).year

    response = await http.get(
        f"/v1/practices/{year}/000120", params={"fiscal_code": GIULIA}, headers=chat(54)
    )

    assert response.status == 404
    assert await error_code(response) == "practice_not_found"


async def test_the_owners_linked_chat_sees_the_status_and_what_is_asked(
    http: Client,
) -> None:
    await link(http, 55, GIULIA)
    year = datetime.now(UTC).year

    response = await http.get(f"/v1/practices/{year}/000120", headers=chat(55))

    assert response.status == 200
    detail = await response.json()
    assert detail["status"] == "integrazione_richiesta"
    assert detail["status_label"] == "in attesa di documenti"
    assert detail["next_step"] == (
        "L'ufficio ti chiede un documento: mandalo qui in chat."
    )
    assert "relazione di calcolo" in detail["requested_documents"]


# --- integration requests and the office's side ---------------------------------------


async def test_a_document_sent_for_an_integration_request_resumes_the_review(
    http: Client,
) -> None:
    await link(http, 60, GIULIA)
    year = datetime.now(UTC).year
    protocol_number = f"{year}/000120"
    last = (await events_after(http))[-1:]
    upload = await upload_id(http, 60)

    response = await http.post(
        path(protocol_number) + "/attachments",
        json={"upload_id": upload},
        headers=chat(60),
    )

    assert response.status == 200, await response.text()
    detail = await response.json()
    assert detail["status"] == "in_istruttoria"
    assert detail["history"][-1]["note"] == "Integrazione ricevuta"
    assert detail["requested_documents"] is None
    assert upload in [a["upload_id"] for a in detail["attachments"]]
    [event] = await events_after(http, last[0]["id"] if last else 0)
    assert event["type"] == "integration_received"
    assert event["payload"]["from_status"] == "integrazione_richiesta"
    assert event["payload"]["to_status"] == "in_istruttoria"
    assert event["recipients"] == ["telegram:60"]
    # Attaching the same upload again is a harmless retry.
    again = await http.post(
        path(protocol_number) + "/attachments",
        json={"upload_id": upload},
        headers=chat(60),
    )
    assert again.status == 200


async def test_only_the_owner_attaches_documents(http: Client) -> None:
    await link(http, 61, MARIO)
    year = datetime.now(UTC).year
    upload = await upload_id(http, 61)

    response = await http.post(
        f"/v1/practices/{year}/000120/attachments",
        json={"upload_id": upload},
        headers=chat(61),
    )

    assert response.status == 404
    assert await error_code(response) == "practice_not_found"


async def test_the_office_moves_a_pratica_and_the_feed_tells_every_linked_chat(
    http: Client,
) -> None:
    await link(http, 62, MARIO)
    await link(http, 63, MARIO)
    year = datetime.now(UTC).year
    last = (await events_after(http))[-1:]

    response = await http.post(
        f"/v1/staff/practices/{year}/000123/transitions",
        json={"to": "integrazione_richiesta", "note": "Manca la foto del lampione."},
        headers={**AUTH, "X-Staff-User": "m.bianchi"},
    )

    assert response.status == 200, await response.text()
    detail = await response.json()
    assert detail["status"] == "integrazione_richiesta"
    assert detail["requested_documents"] == "Manca la foto del lampione."
    [event] = await events_after(http, last[0]["id"] if last else 0)
    assert event["type"] == "practice_status_changed"
    assert event["payload"] == {
        "protocol_number": f"{year}/000123",
        "practice_type": "segnalazione",
        "practice_type_name": "Segnalazione di un problema",
        "from_status": "in_istruttoria",
        "to_status": "integrazione_richiesta",
        "status_label": "in attesa di documenti",
        "note": "Manca la foto del lampione.",
        "next_step": "L'ufficio ti chiede un documento: mandalo qui in chat.",
    }
    assert sorted(event["recipients"]) == ["telegram:62", "telegram:63"]


async def test_recipients_are_the_chats_linked_when_the_feed_is_read(
    http: Client,
) -> None:
    year = datetime.now(UTC).year
    last = (await events_after(http))[-1:]
    await http.post(
        f"/v1/staff/practices/{year}/000122/transitions",
        json={"to": "in_istruttoria"},
        headers=AUTH,
    )
    [before] = await events_after(http, last[0]["id"] if last else 0)

    await link(http, 64, ANNA)

    [after] = await events_after(http, last[0]["id"] if last else 0)
    assert before["recipients"] == []
    assert after["recipients"] == ["telegram:64"]
    assert after["id"] == before["id"]


async def test_an_anonymous_segnalazione_tells_its_submitter(http: Client) -> None:
    detail = await (await submit(http, 65, "segnalazione", SEGNALAZIONE)).json()
    last = (await events_after(http))[-1]

    await http.post(
        f"/v1/staff/practices/{detail['protocol_number']}/transitions",
        json={"to": "in_istruttoria"},
        headers=AUTH,
    )

    [event] = await events_after(http, last["id"])
    assert event["citizen_id"] is None
    assert event["recipients"] == ["telegram:65"]


async def test_invalid_transitions_are_refused_and_an_integration_request_needs_a_note(
    http: Client,
) -> None:
    year = datetime.now(UTC).year
    staff = f"/v1/staff/practices/{year}"

    from_presentata = await http.post(
        f"{staff}/000122/transitions", json={"to": "accolta"}, headers=AUTH
    )
    unknown_status = await http.post(
        f"{staff}/000122/transitions", json={"to": "volata_via"}, headers=AUTH
    )
    from_respinta = await http.post(
        f"{staff}/000119/transitions", json={"to": "in_istruttoria"}, headers=AUTH
    )
    without_note = await http.post(
        f"{staff}/000123/transitions",
        json={"to": "integrazione_richiesta", "note": "  "},
        headers=AUTH,
    )
    missing = await http.post(
        f"{staff}/999999/transitions", json={"to": "archiviata"}, headers=AUTH
    )

    for response in (from_presentata, unknown_status, from_respinta):
        assert response.status == 409
        assert await error_code(response) == "invalid_transition"
    assert without_note.status == 422
    assert "note" in (await without_note.json())["error"]["fields"]
    assert missing.status == 404
    archived = await http.post(
        f"{staff}/000119/transitions", json={"to": "archiviata"}, headers=AUTH
    )
    assert archived.status == 200

