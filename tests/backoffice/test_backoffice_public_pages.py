"""The public pages come from templates that escape: a `<script>` in the comune's name, a
notice's subject, a service's or a certificate's name, or the URL comes out as text.

Each page is parsed as a browser would: it must hold no <script> element, and its text must
show the malicious value literally, as the citizen or the desk would read it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.app import create_app
from backoffice.appkeys import CLOCK
from backoffice.db import create_sessionmaker, models
from backoffice.db.seed import DEMO_CITIZENS
from sportello.clock import ROME, Clock
from sportello.settings import Settings
from tests.backoffice_http import Client, chat, link

EVIL = '<script>alert("x")</script>'
COMUNE = f"Cerveteri {EVIL}"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)
MARIO, _, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)


class _Page(HTMLParser):
    """What a browser makes of a page: its elements and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read(html: str) -> tuple[list[str], str]:
    page = _Page()
    page.feed(html)
    return page.tags, "".join(page.text)


def assert_escaped(html: str, *shown: str) -> None:
    tags, text = read(html)
    assert "script" not in tags, html
    assert "<script>" not in html
    for value in shown:
        assert value in text, text


@pytest_asyncio.fixture
async def http(
    database_url: str, seeded_engine: AsyncEngine, make_settings: Callable[..., Settings]
) -> AsyncIterator[Client]:
    settings = make_settings(database_url).model_copy(
        update={"comune_name": COMUNE, "appointment_reminder_interval_seconds": 0}
    )
    app = create_app(settings)
    app[CLOCK] = Clock(NOW)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def _set(engine: AsyncEngine, statement: Any) -> None:
    async with create_sessionmaker(engine)() as session:
        await session.execute(statement)
        await session.commit()


async def _checkout_path(http: Client, engine: AsyncEngine) -> str:
    async with create_sessionmaker(engine)() as session:
        position = await session.scalar(
            select(models.TaxPosition)
            .join(models.Citizen)
            .where(models.Citizen.fiscal_code == ANNA, models.TaxPosition.tax_type == "TARI")
            .order_by(models.TaxPosition.id)
        )
    assert position is not None
    await _set(
        engine, update(models.TaxPosition).where(models.TaxPosition.id == position.id).values(description=f"TARI {EVIL}")
    )
    await link(http, 71, ANNA)
    response = await http.post(f"/v1/taxes/{position.id}/notice", headers=chat(71))
    assert response.status == 200, await response.text()
    return urlsplit((await response.json())["checkout_url"]).path


async def test_the_checkout_pages_show_a_script_in_the_subject_as_text(http: Client, seeded_engine: AsyncEngine) -> None:
    path = await _checkout_path(http, seeded_engine)

    form = await http.get(path)
    paid = await http.post(path)
    again = await http.post(path)
    shown_after = await http.get(path)

    assert (form.status, paid.status, again.status, shown_after.status) == (200, 200, 409, 200)
    assert_escaped(await form.text(), f"TARI {EVIL}", f"Comune di {COMUNE}", "Paga ora")
    assert_escaped(await paid.text(), f"TARI {EVIL}", "Pagamento riuscito", "Scarica la ricevuta")
    assert_escaped(await again.text(), f"TARI {EVIL}", "già pagato")
    assert_escaped(await shown_after.text(), f"TARI {EVIL}", "già pagato")


async def test_the_booking_page_shows_a_script_in_the_service_and_the_comune_as_text(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await _set(
        seeded_engine,
        update(models.CounterService).where(models.CounterService.code == "anagrafe").values(
            name=f"Anagrafe {EVIL}", location=f"Piazza {EVIL}"
        ),
    )
    await link(http, 72, MARIO)
    booked = await http.post(
        "/v1/appointments",
        json={"service": "anagrafe", "starts_at": "2026-11-27T09:10"},
        headers={**chat(72), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert booked.status == 201, await booked.text()
    url = urlsplit((await booked.json())["qr_payload"])

    page = await http.get(f"{url.path}?{url.query}")
    missing = await http.get(f"{url.path}?t=wrong")

    assert (page.status, missing.status) == (200, 404)
    assert_escaped(await page.text(), f"Anagrafe {EVIL}", f"Piazza {EVIL}", f"Comune di {COMUNE}")
    assert_escaped(await missing.text(), "Prenotazione non trovata", f"Comune di {COMUNE}")


async def test_the_certificate_pages_show_a_script_in_the_type_and_the_url_as_text(
    http: Client, seeded_engine: AsyncEngine
) -> None:
    await link(http, 73, MARIO)
    submitted = await http.post(
        "/v1/practices",
        json={
            "practice_type": "certificato_residenza",
            "data": {"subject_fiscal_code": MARIO, "use": "in carta libera (esente)"},
        },
        headers={**chat(73), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert submitted.status == 201, await submitted.text()
    code = (await submitted.json())["document"]["verification_code"]
    await _set(
        seeded_engine,
        update(models.PracticeType)
        .where(models.PracticeType.code == "certificato_residenza")
        .values(name=f"Certificato {EVIL}"),
    )

    page = await http.get(f"/verify/{code}")
    forged = await http.get("/verify/" + quote(EVIL, safe=""))

    assert (page.status, forged.status) == (200, 404)
    assert_escaped(await page.text(), "Documento autentico", f"Certificato {EVIL}", f"Comune di {COMUNE}")
    assert_escaped(await forged.text(), "Documento non trovato", EVIL)


async def test_an_expired_checkout_page_keeps_the_pagopa_skeleton(http: Client, seeded_engine: AsyncEngine) -> None:
    path = await _checkout_path(http, seeded_engine)
    http.app[CLOCK].advance(timedelta(hours=25))  # the link lasts CHECKOUT_LINK_HOURS, 24

    expired = await http.get(path)
    unknown = await http.get("/checkout/nothing-here")

    assert (expired.status, unknown.status) == (410, 404)
    assert_escaped(await expired.text(), "Link di pagamento scaduto", "pagoPA · pagamento simulato")
    assert_escaped(await unknown.text(), "Avviso non trovato")
