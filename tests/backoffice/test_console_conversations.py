"""The console's Conversazioni: the chats handed to a person, read from the bot's own handoff
database (written here by the bot's HandoffStore), with waiting time, who took them, rating,
and the transcript only while the comune keeps it. On SQLite and PostgreSQL for the back office."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from backoffice.app import create_app
from backoffice.appkeys import CLOCK
from backoffice.db.seed import DEMO_CITIZENS
from bot.handoff_store import HandoffStore
from sportello.clock import ROME, Clock
from sportello.settings import Settings
from tests.backoffice_http import Client, console_login, link

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)
ANNA = DEMO_CITIZENS[2].fiscal_code
ANNA_CHAT, OTHER_CHAT = 7101, 7102
RETENTION_DAYS = 30


def naive_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


async def seed_tickets(url: str) -> dict[str, int]:
    """Three tickets as the bot leaves them: one waiting 25 minutes, one taken after 7 minutes
    and closed yesterday with a rating and an internal note, one closed long ago."""
    store = await HandoffStore.open(url)
    try:
        waiting = await store.create(OTHER_CHAT, "Tributi")
        await store.update(waiting.id, created_at=naive_utc(NOW - timedelta(minutes=25)), relaying=True)

        done = await store.create(ANNA_CHAT, "Carta d'identità")
        await store.add_line(done.id, "assistente", "Richiesta di una persona. Argomento: Carta d'identità")
        await store.add_line(done.id, "cittadino", "Serve la foto per la CIE?")
        await store.add_line(done.id, "nota interna", "Controllare la prenotazione di giovedì")
        await store.add_line(done.id, "operatore", "Sì, una fototessera recente.")
        await store.claim(done.id, "Lucia")
        opened = NOW - timedelta(days=1, hours=2)
        await store.update(
            done.id,
            created_at=naive_utc(opened),
            claimed_at=naive_utc(opened + timedelta(minutes=7)),
            status="closed",
            closed_at=naive_utc(NOW - timedelta(days=1)),
            close_note="Risolto",
            rating=5,
        )

        old = await store.create(OTHER_CHAT, "Pratiche")
        await store.add_line(old.id, "cittadino", "Una domanda di tanto tempo fa")
        await store.update(
            old.id,
            created_at=naive_utc(NOW - timedelta(days=50)),
            status="closed",
            closed_at=naive_utc(NOW - timedelta(days=RETENTION_DAYS + 5)),
        )
        return {"waiting": waiting.id, "done": done.id, "old": old.id}
    finally:
        await store.close()


@pytest_asyncio.fixture
async def tickets(tmp_path: Path) -> tuple[str, dict[str, int]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}"
    return url, await seed_tickets(url)


async def serve(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(settings.model_copy(update={"appointment_reminder_interval_seconds": 0}))
    app[CLOCK] = Clock(NOW)
    server = TestServer(app, host="127.0.0.1")
    async with TestClient(server) as client:
        yield client


@pytest_asyncio.fixture
async def http(
    database_url: str,
    seeded_engine: AsyncEngine,
    make_settings: Callable[..., Settings],
    tickets: tuple[str, dict[str, int]],
) -> AsyncIterator[Client]:
    settings = make_settings(database_url).model_copy(
        update={"handoff_database_url": tickets[0], "handoff_retention_days": RETENTION_DAYS}
    )
    async for client in serve(settings):
        yield client


def rows_of(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


async def test_the_list_puts_the_waiting_first_with_their_wait_who_took_them_and_the_rating(
    http: Client, tickets: tuple[str, dict[str, int]]
) -> None:
    ids = tickets[1]
    await link(http, ANNA_CHAT, ANNA)
    await console_login(http, "operatore")
    page = await (await http.get("/staff/conversazioni")).text()
    assert "In attesa: 1 · In corso: 0 · Chiuse: 2" in page
    rows = rows_of(page)
    assert [row[0] for row in rows] == [f"#{ids['waiting']}", f"#{ids['old']}", f"#{ids['done']}"]
    waiting, _, done = rows
    assert waiting[2] == "In attesa" and waiting[4] == "25 min (sta aspettando)" and waiting[7] == "chat non collegata"
    assert done[2] == "Chiusa" and done[4] == "7 min" and done[5] == "Lucia" and done[6] == "5 su 5"
    assert done[7] == f"{DEMO_CITIZENS[2].given_name} {DEMO_CITIZENS[2].family_name}"

    only_closed = rows_of(await (await http.get("/staff/conversazioni", params={"stato": "chiuse"})).text())
    assert {row[0] for row in only_closed} == {f"#{ids['done']}", f"#{ids['old']}"}
    only_waiting = rows_of(await (await http.get("/staff/conversazioni", params={"stato": "in_attesa"})).text())
    assert [row[0] for row in only_waiting] == [f"#{ids['waiting']}"]


async def test_a_transcript_shows_the_internal_note_apart_and_reading_it_is_audited(
    http: Client, tickets: tuple[str, dict[str, int]]
) -> None:
    ids = tickets[1]
    await console_login(http, "operatore")
    page = (await (await http.get(f"/staff/conversazioni/{ids['done']}")).text()).replace("&#39;", "'")
    assert "Conversazione #" in page and "Carta d'identità" in page
    assert page.index("Serve la foto per la CIE?") < page.index("Sì, una fototessera recente.")
    note = re.search(r'<li class="internal">(.*?)</li>', page, re.S)
    assert note is not None and "🔒 Nota interna" in note.group(1)
    assert "Controllare la prenotazione di giovedì" in note.group(1)
    assert "Conservata fino al 25/12/2026 10:00" in page  # closed on 25/11 at 10:00, kept 30 days

    await console_login(http, "admin")
    audit = await (await http.get("/staff/registro")).text()
    assert re.search(r"<td>operatore</td><td>conversazione letta</td><td>conversazione " + str(ids["done"]), audit)


async def test_past_the_retention_period_the_transcript_is_not_shown_even_if_not_yet_purged(
    http: Client, tickets: tuple[str, dict[str, int]]
) -> None:
    await console_login(http, "responsabile")
    page = await (await http.get(f"/staff/conversazioni/{tickets[1]['old']}")).text()
    assert "La trascrizione non è più conservata" in page
    assert "Una domanda di tanto tempo fa" not in page


async def test_a_publisher_cannot_read_conversations_and_a_missing_one_is_a_page_in_italian(http: Client) -> None:
    await console_login(http, "pubblicatore")
    refused = await http.get("/staff/conversazioni")
    assert refused.status == 403 and "Il tuo ruolo non lo permette" in await refused.text()
    await console_login(http, "operatore")
    missing = await http.get("/staff/conversazioni/999999")
    assert missing.status == 404 and "Non trovato" in await missing.text()
    assert (await http.get("/staff/conversazioni/abc")).status == 404


async def test_when_the_bots_database_cannot_be_read_the_page_says_so(
    database_url: str, seeded_engine: AsyncEngine, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(database_url).model_copy(
        update={"handoff_database_url": f"sqlite+aiosqlite:///{tmp_path / 'absent' / 'handoff.db'}"}
    )
    async for http in serve(settings):
        await console_login(http, "operatore")
        page = await http.get("/staff/conversazioni")
        assert page.status == 200
        assert "Le conversazioni non si possono leggere ora" in await page.text()
        one = await http.get("/staff/conversazioni/1")
        assert "Le conversazioni non si possono leggere ora" in await one.text()
