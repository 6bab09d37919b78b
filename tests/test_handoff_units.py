"""The handoff service on its own: office hours, the unclaimed reminder, transcript retention."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from telegram.ext import ExtBot

from backend_client import Closure, CounterService, OpeningHours
from bot.handoff import ROME, Handoffs, next_opening
from bot.handoff_store import HandoffStore, TicketRow
from bot.jobs import every
from bot.redact import redact
from localtelegram import BotApiDriver, BotApiServerThread

STAFF = -100555


def hours(*intervals: tuple[int, str, str]) -> tuple[OpeningHours, ...]:
    return tuple(OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in intervals)


# The protocollo desk as seeded: mornings Monday to Friday, Tuesday and Thursday afternoons.
PROTOCOLLO = hours(
    *((weekday, "08:30", "12:30") for weekday in range(5)),
    (1, "15:00", "17:00"),
    (3, "15:00", "17:00"),
)
CHRISTMAS_CLOSURES = frozenset({date(2026, 12, 25), date(2026, 12, 26)})  # Natale, Santo Stefano


def test_open_now_and_next_opening_follow_the_desk_hours() -> None:
    week = hours((0, "09:00", "12:30"), (1, "09:00", "12:30"), (1, "15:00", "17:00"))
    tuesday_10 = datetime(2026, 12, 1, 10, 0, tzinfo=ROME)
    assert next_opening(week, tuesday_10) == (True, None)
    assert next_opening(week, tuesday_10.replace(hour=13)) == (False, tuesday_10.replace(hour=15))
    friday_evening = datetime(2026, 12, 4, 19, 0, tzinfo=ROME)
    assert next_opening(week, friday_evening) == (False, datetime(2026, 12, 7, 9, 0, tzinfo=ROME))


def test_on_christmas_the_desk_is_closed_and_reopens_on_the_monday_after() -> None:
    christmas_10 = datetime(2026, 12, 25, 10, 0, tzinfo=ROME)  # a Friday

    assert next_opening(PROTOCOLLO, christmas_10, CHRISTMAS_CLOSURES) == (
        False,
        datetime(2026, 12, 28, 8, 30, tzinfo=ROME),
    )


def test_on_christmas_eve_the_desk_is_open() -> None:
    eve_10 = datetime(2026, 12, 24, 10, 0, tzinfo=ROME)  # a Thursday

    assert next_opening(PROTOCOLLO, eve_10, CHRISTMAS_CLOSURES) == (True, None)


def test_a_closed_day_is_never_the_next_opening() -> None:
    eve_evening = datetime(2026, 12, 24, 18, 0, tzinfo=ROME)

    assert next_opening(PROTOCOLLO, eve_evening, CHRISTMAS_CLOSURES) == (
        False,
        datetime(2026, 12, 28, 8, 30, tzinfo=ROME),
    )
    assert next_opening(PROTOCOLLO, eve_evening) == (False, datetime(2026, 12, 25, 8, 30, tzinfo=ROME))


class FakeBackOffice:
    """The desk's hours and closed days, as the back office would give them."""

    def __init__(self, opening_hours: tuple[OpeningHours, ...], closures: tuple[Closure, ...] = ()) -> None:
        self.appointments = self  # the handoff asks `client.appointments`
        self.counter = CounterService(
            code="protocollo", name="Ufficio Protocollo", description="", location="", slot_minutes=15,
            desks=1, opening_hours=opening_hours, closures=closures,
        )

    async def service(self, code: str) -> CounterService:
        return self.counter


@pytest.fixture()
def telegram() -> AsyncIterator[BotApiServerThread]:
    server = BotApiServerThread(token="848484:HANDOFF-UNIT").start()
    with BotApiDriver(server.url) as driver:
        driver.group(STAFF, "Staff", forum=True)
    yield server  # type: ignore[misc]
    server.stop()


async def test_out_of_hours_the_citizen_is_told_when_the_office_reopens(
    telegram: BotApiServerThread, tmp_path: Path
) -> None:
    # Open only on a day that is not today: closed now, whatever time the test runs.
    other_day = (datetime.now(ROME) + timedelta(days=2)).weekday()
    store = await HandoffStore.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    driver = BotApiDriver(telegram.url)
    citizen = driver.user(5151, first_name="Rosa")
    citizen.send("ciao")
    async with ExtBot(telegram.token, base_url=telegram.bot_url, base_file_url=telegram.file_url,
                      arbitrary_callback_data=True) as bot:
        handoffs = Handoffs(bot, store, FakeBackOffice(hours((other_day, "09:00", "12:00"))), STAFF)  # type: ignore[arg-type]
        await handoffs.start(citizen.chat_id, "Tributi")
        told = [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"][-1]
        assert "Ora gli uffici sono chiusi: riaprono" in told.content and "alle 9:00" in told.content
        assert "ticket #1" in told.content and told.buttons == ["↩️ Torna all'assistente"]
        # Nobody takes it: the citizen is told once, not at every check.
        assert await handoffs.remind_unclaimed(minutes=0) == 1
        assert await handoffs.remind_unclaimed(minutes=0) == 0
        reminder = [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"][-1]
        assert "Nessun operatore è libero" in reminder.content
    await store.close()
    driver.close()


async def test_transcripts_of_tickets_closed_long_ago_are_forgotten(tmp_path: Path) -> None:
    store = await HandoffStore.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    old = await store.create(1, "Pratiche")
    recent = await store.create(2, "Tributi")
    for ticket in (old, recent):
        await store.add_line(ticket.id, "cittadino", "una domanda")
        await store.close_ticket(ticket.id, None)
    async with store._sessions() as session, session.begin():
        await session.execute(
            update(TicketRow).where(TicketRow.id == old.id).values(closed_at=datetime(2020, 1, 1))
        )
    assert await store.purge_transcripts(retention_days=30) == 1
    assert await store.transcript(old.id) == []
    assert await store.transcript(recent.id) == [("cittadino", "una domanda")]
    await store.close()


async def test_on_a_closed_day_the_citizen_is_told_the_office_reopens_another_day(
    telegram: BotApiServerThread, tmp_path: Path
) -> None:
    # Open all day today by the hours, but today is a holiday: it reopens next week.
    today = datetime.now(ROME).date()
    all_day = hours((today.weekday(), "00:00", "23:59"))
    closures = (Closure(date=today, reason="Natale"),)
    store = await HandoffStore.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    driver = BotApiDriver(telegram.url)
    citizen = driver.user(5152, first_name="Pia")
    citizen.send("ciao")
    async with ExtBot(telegram.token, base_url=telegram.bot_url, base_file_url=telegram.file_url,
                      arbitrary_callback_data=True) as bot:
        handoffs = Handoffs(bot, store, FakeBackOffice(all_day, closures), STAFF)  # type: ignore[arg-type]
        await handoffs.start(citizen.chat_id, "Anagrafe")
        told = [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"][-1]
    next_week = today + timedelta(days=7)
    assert "Ora gli uffici sono chiusi: riaprono" in told.content
    assert f" {next_week.day} " in told.content and "alle 0:00" in told.content
    await store.close()
    driver.close()


async def test_a_staff_topic_that_cannot_be_opened_closes_the_ticket_and_gives_the_switchboard(
    telegram: BotApiServerThread, tmp_path: Path
) -> None:
    store = await HandoffStore.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    driver = BotApiDriver(telegram.url)
    citizen = driver.user(5153, first_name="Lia")
    citizen.send("ciao")
    driver.fail("createForumTopic", description="Bad Request: not enough rights to manage topics")
    async with ExtBot(telegram.token, base_url=telegram.bot_url, base_file_url=telegram.file_url,
                      arbitrary_callback_data=True) as bot:
        handoffs = Handoffs(bot, store, FakeBackOffice(PROTOCOLLO), STAFF, switchboard="06 896301 (lun–ven 9–12)")  # type: ignore[arg-type]
        await handoffs.start(citizen.chat_id, "Tributi")
        told = [m for m in driver.outputs(citizen.chat_id) if m.kind == "text"][-1]
        assert "non riesco a passarti a una persona" in told.content
        assert "06 896301 (lun–ven 9–12)" in told.content and told.buttons == ["🏠 Menu"]
        assert await handoffs.relaying_ticket(citizen.chat_id) is None, "nothing is relayed into nowhere"
        ticket = await store.get(1)
        assert ticket is not None and ticket.status == "closed" and ticket.thread_id is None
        # Once Telegram lets the topic be opened again, a new request opens a new ticket.
        await handoffs.start(citizen.chat_id, "Tributi")
        relaying = await handoffs.relaying_ticket(citizen.chat_id)
        assert relaying is not None and relaying.id == 2 and relaying.thread_id is not None
    await store.close()
    driver.close()


async def test_a_job_runs_at_every_interval_and_outlives_a_failure() -> None:
    runs: list[int] = []

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the database is away for a moment")

    task = asyncio.create_task(every(0.02, job, "Test job"))
    await asyncio.sleep(0.2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(runs) >= 3


@pytest.mark.parametrize(
    ("said", "staff_read"),
    [
        ("RSSMRA80A01H501U", "RSS***********1U"),
        ("il mio codice fiscale è rssmra80a01h501u, grazie", "il mio codice fiscale è RSS***********1U, grazie"),
        ("cf RSSMRA80A01H50MU", "cf RSS***********MU"),  # omocodia
        ("il codice è AWLP-CJ4P", "il codice è ****-****"),
        ("awlp-cj4p", "****-****"),
        ("k7p2qx9m e K7P2 QX9M", "****-**** e ****-****"),
        ("AWLPCJHP", "****-****"),
    ],
)
def test_codici_fiscali_and_link_codes_are_masked_for_the_staff(said: str, staff_read: str) -> None:
    assert redact(said) == staff_read


@pytest.mark.parametrize(
    "said",
    ["la sentenza del giudice", "CASA MARE", "pratica 2026/000118", "06 896301", "TARI 2026", "avviso 301000000000000000"],
)
def test_ordinary_words_and_numbers_stay_as_they_are(said: str) -> None:
    assert redact(said) == said


async def test_the_lines_the_staff_read_at_handoff_carry_no_codice_fiscale_or_link_code(
    telegram: BotApiServerThread, tmp_path: Path
) -> None:
    store = await HandoffStore.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    driver = BotApiDriver(telegram.url)
    citizen = driver.user(5154, first_name="Ada")
    citizen.send("ciao")
    async with ExtBot(telegram.token, base_url=telegram.bot_url, base_file_url=telegram.file_url,
                      arbitrary_callback_data=True) as bot:
        handoffs = Handoffs(bot, store, FakeBackOffice(PROTOCOLLO), STAFF)  # type: ignore[arg-type]
        handoffs.remember(citizen.chat_id, "cittadino", "sono rssmra80a01h501u, il codice AWLP-CJ4P non va")
        handoffs.remember(citizen.chat_id, "assistente", "Il codice AWLP-CJ4P non è valido.")
        await handoffs.start(citizen.chat_id, "Anagrafe")
    intro = next(m for m in driver.outputs(STAFF) if m.kind == "text")
    assert "cittadino: sono RSS***********1U, il codice ****-**** non va" in intro.content
    assert "assistente: Il codice ****-**** non è valido." in intro.content
    assert "rssmra80a01h501u" not in intro.content.lower() and "AWLP" not in intro.content
    await store.close()
    driver.close()
