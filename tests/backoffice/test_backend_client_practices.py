"""The typed client's identity, upload and pratica calls, against the real back office."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from backend_client import (
    BackOfficeClient,
    BackOfficeUnavailable,
    CitizenNotFound,
    FileTooLarge,
    InvalidData,
    InvalidTransition,
    LinkCodeExpired,
    LinkCodeInvalid,
    NotFound,
    NotLinked,
    PracticeDetail,
    PracticeNotFound,
    TooManyAttempts,
    UnsupportedFileType,
    new_idempotency_key,
)
from backoffice.db.seed import DEMO_CITIZENS

MARIO, GIULIA, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)
PDF = b"%PDF-1.4\n%%EOF\n"
SEGNALAZIONE = {
    "category": "strade",
    "location": {"latitude": 41.99, "longitude": 12.09},
    "description": "Buca profonda",
}


async def _link(client: BackOfficeClient, channel_user: str, fiscal_code: str) -> None:
    code = await client.identity.create_link_code(fiscal_code)
    await client.identity.link(channel_user, code.code)


async def test_the_client_links_a_chat_and_tells_whom_it_belongs_to(
    backoffice_client: BackOfficeClient,
) -> None:
    code = await backoffice_client.identity.create_link_code(MARIO)

    linked = await backoffice_client.identity.link("telegram:1", code.code.lower())

    assert linked.given_name == "Mario"
    assert linked.fiscal_code_masked == "RSS***50C12***D"
    assert await backoffice_client.identity.me("telegram:1") == linked
    await backoffice_client.identity.unlink("telegram:1")
    with pytest.raises(NotLinked):
        await backoffice_client.identity.me("telegram:1")


async def test_link_code_errors_are_typed(backoffice_client: BackOfficeClient) -> None:
    with pytest.raises(CitizenNotFound):
        await backoffice_client.identity.create_link_code("BNCLRA80A01H501X")
    code = await backoffice_client.identity.create_link_code(GIULIA)
    await backoffice_client.identity.link("telegram:2", code.code)
    with pytest.raises(LinkCodeExpired):
        await backoffice_client.identity.link("telegram:3", code.code)
    for _ in range(4):
        with pytest.raises(LinkCodeInvalid):
            await backoffice_client.identity.link("telegram:3", "AAAA-AAAA")
    with pytest.raises(TooManyAttempts) as raised:
        await backoffice_client.identity.link("telegram:3", "AAAA-AAAA")
    assert raised.value.retry_after is not None and raised.value.retry_after > 0


async def test_the_client_submits_tracks_and_completes_a_pratica(
    backoffice_client: BackOfficeClient,
) -> None:
    user = "telegram:4"
    await _link(backoffice_client, user, ANNA)
    report = await backoffice_client.practices.upload(
        user, PDF, "relazione.pdf", "application/pdf"
    )
    assert (report.content_type, report.size) == ("application/pdf", len(PDF))

    detail = await backoffice_client.practices.submit(
        user,
        "cila",
        {
            "property_address": "Via Roma 1, Cerveteri",
            "cadastral_data": "Foglio 1, particella 2",
            "works_description": "Nuovo impianto elettrico",
            "technician": "Geom. Neri",
            "works_start_date": "2026-12-15",
            "sworn_report": report.upload_id,
        },
        idempotency_key=new_idempotency_key(),
    )

    assert isinstance(detail, PracticeDetail)
    assert (detail.status, detail.practice_type_code) == ("presentata", "cila")
    assert detail.practice_type_name.startswith("CILA")
    assert detail.created_at.tzinfo is not None
    listed = await backoffice_client.practices.mine(user)
    assert listed[0].protocol_number == detail.protocol_number

    await backoffice_client.practices.transition(
        detail.protocol_number, "in_istruttoria", staff_user="m.bianchi"
    )
    waiting = await backoffice_client.practices.transition(
        detail.protocol_number, "integrazione_richiesta", "Manca la planimetria."
    )
    assert waiting.status_label == "in attesa di documenti"
    assert waiting.requested_documents == "Manca la planimetria."
    plan = await backoffice_client.practices.upload(
        user, PDF, "planimetria.pdf", "application/pdf"
    )
    resumed = await backoffice_client.practices.attach(
        user, detail.protocol_number, plan.upload_id
    )
    assert resumed.status == "in_istruttoria"
    assert resumed.history[-1].note == "Integrazione ricevuta"
    assert {a.upload_id for a in resumed.attachments} == {
        report.upload_id,
        plan.upload_id,
    }
    with pytest.raises(InvalidTransition):
        await backoffice_client.practices.transition(detail.protocol_number, "bozza")

    page = await backoffice_client.events.page(after=0, limit=500)
    mine = [
        e
        for e in page.events
        if e.payload.get("protocol_number") == detail.protocol_number
    ]
    assert [e.type for e in mine] == [
        "practice_submitted",
        "practice_status_changed",
        "practice_status_changed",
        "integration_received",
    ]
    assert all(e.recipients == (user,) for e in mine)


async def test_a_certificate_comes_with_a_document_the_client_downloads(
    backoffice_client: BackOfficeClient,
) -> None:
    user = "telegram:5"
    await _link(backoffice_client, user, MARIO)

    detail = await backoffice_client.practices.submit(
        user, "certificato_residenza", {"use": "in bollo"}, new_idempotency_key()
    )

    assert detail.status == "accolta" and detail.document is not None
    content = await backoffice_client.download(detail.document.download_url)
    assert content.startswith(b"%PDF")
    with pytest.raises(NotFound):
        await backoffice_client.download(detail.document.download_url + "x")


async def test_submission_errors_are_typed_with_the_fields(
    backoffice_client: BackOfficeClient,
) -> None:
    with pytest.raises(NotLinked):
        await backoffice_client.practices.submit(
            "telegram:6", "scia", {}, new_idempotency_key()
        )
    with pytest.raises(InvalidData) as raised:
        await backoffice_client.practices.submit(
            "telegram:6",
            "segnalazione",
            {**SEGNALAZIONE, "category": "ufo"},
            new_idempotency_key(),
        )
    assert set(raised.value.fields) == {"category"}
    assert raised.value.status == 422


async def test_upload_errors_are_typed(backoffice_client: BackOfficeClient) -> None:
    with pytest.raises(NotLinked):
        await backoffice_client.practices.upload("telegram:7", PDF, "a.pdf", "application/pdf")
    await _link(backoffice_client, "telegram:7", ANNA)
    with pytest.raises(UnsupportedFileType):
        await backoffice_client.practices.upload("telegram:7", b"GIF89a...", "x.gif", "image/gif")
    with pytest.raises(FileTooLarge):
        await backoffice_client.practices.upload(
            "telegram:7", PDF + bytes(20 * 1024 * 1024), "big.pdf", "application/pdf"
        )


async def test_someone_elses_protocol_is_not_found_and_an_unlinked_chat_not_linked(
    backoffice_client: BackOfficeClient,
) -> None:
    year = datetime.now(UTC).year
    await _link(backoffice_client, "telegram:8", MARIO)

    with pytest.raises(PracticeNotFound):
        await backoffice_client.practices.get("telegram:8", f"{year}/000120")
    with pytest.raises(PracticeNotFound):
        await backoffice_client.practices.get("telegram:8", "la mia pratica")
    with pytest.raises(NotLinked):
        await backoffice_client.practices.get("telegram:9", f"{year}/000120")
    await _link(backoffice_client, "telegram:9", GIULIA)
    own = await backoffice_client.practices.get("telegram:9", f"{year}/120")
    assert own.protocol_number == f"{year}/000120"


async def test_one_practice_type_comes_with_its_questions(
    backoffice_client: BackOfficeClient,
) -> None:
    segnalazione = await backoffice_client.practices.type("segnalazione")

    assert all(field.question for field in segnalazione.fields)
    category = next(f for f in segnalazione.fields if f.name == "category")
    assert "verde" in category.choices


# --- retries of the submission, against a back office that misbehaves on purpose -------


class DroppingBackOffice:
    """Drops the connection of the first `drops` calls, answers 503 to the next `errors`."""

    def __init__(self, drops: int, errors: int = 0) -> None:
        self.drops, self.errors = drops, errors
        self.keys: list[str | None] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.keys.append(request.headers.get("Idempotency-Key"))
        await request.read()
        if len(self.keys) <= self.drops:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if len(self.keys) <= self.drops + self.errors:
            return web.json_response(
                {"error": {"code": "internal_error", "message": "boom"}}, status=500
            )
        return web.json_response(_detail_body(), status=201)


def _detail_body() -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "protocol_number": "2026/000200",
        "practice_type": {"code": "segnalazione", "name": "Segnalazione"},
        "status": "presentata",
        "status_label": "presentata",
        "created_at": now,
        "updated_at": now,
        "next_step": "Ti scrivo io.",
        "history": [
            {
                "status": "presentata",
                "status_label": "presentata",
                "note": None,
                "at": now,
            }
        ],
        "requested_documents": None,
        "document": None,
        "attachments": [],
    }


@pytest_asyncio.fixture
async def dropping() -> AsyncIterator[list[TestServer]]:
    servers: list[TestServer] = []
    yield servers
    for server in servers:
        await server.close()


async def _start(backend: DroppingBackOffice, servers: list[TestServer]) -> str:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", backend.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    servers.append(server)
    return str(server.make_url("/"))


async def test_a_submission_is_retried_after_a_dropped_connection_with_the_same_key(
    dropping: list[TestServer], client_session: aiohttp.ClientSession
) -> None:
    backend = DroppingBackOffice(drops=2)
    url = await _start(backend, dropping)
    client = BackOfficeClient(client_session, url, "key", retry_backoff=0.01)

    detail = await client.practices.submit(
        "telegram:9", "segnalazione", SEGNALAZIONE, "the-key"
    )

    assert detail.protocol_number == "2026/000200"
    assert backend.keys == ["the-key"] * 3


async def test_a_submission_is_not_retried_after_a_server_error(
    dropping: list[TestServer], client_session: aiohttp.ClientSession
) -> None:
    backend = DroppingBackOffice(drops=0, errors=1)
    url = await _start(backend, dropping)
    client = BackOfficeClient(client_session, url, "key", retry_backoff=0.01)

    with pytest.raises(BackOfficeUnavailable):
        await client.practices.submit("telegram:9", "segnalazione", SEGNALAZIONE, "k")

    assert len(backend.keys) == 1
