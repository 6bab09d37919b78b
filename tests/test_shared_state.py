"""The bot's state in its database: a button shown by one replica is answered by another, a
display mode chosen on one is seen by the other, and on SQLite a `kill -9` loses neither."""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.ext import AIORateLimiter, InvalidCallbackData
from telegram.request import HTTPXRequest

from bot import texts
from bot.announcement_composer import ComposerAction
from bot.handoff import CitizenAction, StaffAction
from bot.handoff_store import HandoffStore
from bot.persistence import DatabasePersistence, SharedStateBot
from bot.render import ButtonChoice
from bot.simple_mode import DisplayChoice
from bot.state_store import BotStateStore, decode_buttons, encode_buttons
from localtelegram import BotApiDriver, BotApiServerThread, TelegramUser
from tests.production import _databases
from tests.stack import STAFF_CHAT_ID, Service, Stack, add_staff_group, free_port, start_bot, wait_until
from tests.test_chat_e2e import answers

SECRET = "shared-state-webhook-secret"
SETTINGS = "/impostazioni"


def test_every_kind_of_button_goes_through_json_and_nothing_else_does() -> None:
    buttons: dict[str, object] = {
        "a": ButtonChoice("/main_menu", "🏠 Menu"), "b": StaffAction(7, "claim"),
        "c": CitizenAction(7, "rate", 5), "d": DisplayChoice("compatta"), "e": "testo",
        "f": ComposerAction("zone", "cerenova"),
    }
    assert decode_buttons(encode_buttons(buttons)) == buttons
    with pytest.raises(TypeError):
        encode_buttons({"x": object()})
    with pytest.raises(KeyError):
        decode_buttons('{"x": {"kind": "Popen", "fields": {"args": "sh"}}}')


async def test_the_store_keeps_the_keyboards_used_last(tmp_path: Path) -> None:
    store = BotStateStore(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}", keyboards_kept=3)
    try:
        now = time.time() - 100
        await store.save_keyboards((f"{n:032d}", now + n, {"b": DisplayChoice("semplice")}) for n in range(5))
        await store.touch(f"{0:032d}")  # pressed just now: among the last used
        assert await store.prune() == 2
        kept = [n for n in range(5) if await store.keyboard(f"{n:032d}") is not None]
        assert kept == [0, 3, 4]
        await store.save_user_data(42, {"display_mode": "compatta"})
        assert await store.user_data(42) == {"display_mode": "compatta"}
        await store.drop_user_data(42)
        assert await store.user_data(42) is None
    finally:
        await store.close()


def _bot(store: BotStateStore) -> SharedStateBot:
    return SharedStateBot(
        "1:SHARED", store=store, buttons_kept=100, base_url="http://127.0.0.1:9/bot",
        base_file_url="http://127.0.0.1:9/file/bot", request=HTTPXRequest(), get_updates_request=HTTPXRequest(),
        rate_limiter=AIORateLimiter(),
    )


async def test_a_key_unknown_to_one_bot_is_read_from_the_store_the_other_wrote(tmp_path: Path) -> None:
    store = BotStateStore(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}", keyboards_kept=100)
    shown_by, pressed_on = _bot(store), _bot(BotStateStore(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}", 100))
    try:
        markup = shown_by.keyboards.process_keyboard(InlineKeyboardMarkup([[
            InlineKeyboardButton("🏠 Menu", callback_data=ButtonChoice("/main_menu", "🏠 Menu")),
        ]]))
        assert len(shown_by.keyboards.unsaved) == 1
        await shown_by.keyboards.save()
        assert shown_by.keyboards.unsaved == []
        key = markup.inline_keyboard[0][0].callback_data
        query = CallbackQuery("q1", User(5, "Rosa", is_bot=False), "instance", data=key)
        update = Update(1, callback_query=query)
        pressed_on.insert_callback_data(update)
        assert isinstance(query.data, InvalidCallbackData), "the other bot never saw it"
        await pressed_on.keyboards.resolve(query)
        assert query.data == ButtonChoice("/main_menu", "🏠 Menu")
        # A key nobody wrote stays stale: the stale-button handler answers it.
        forged = CallbackQuery("q2", User(5, "Rosa", is_bot=False), "instance", data="f" * 64)
        pressed_on.insert_callback_data(Update(2, callback_query=forged))
        await pressed_on.keyboards.resolve(forged)
        assert isinstance(forged.data, InvalidCallbackData)
    finally:
        await store.close()
        await pressed_on.keyboards.store.close()


async def test_without_its_database_a_keyboard_waits_to_be_shared(tmp_path: Path) -> None:
    store = BotStateStore(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'state.db'}", keyboards_kept=100)
    bot = _bot(store)
    bot.keyboards.process_keyboard(InlineKeyboardMarkup([[
        InlineKeyboardButton("🔡", callback_data=DisplayChoice("compatta")),
    ]]))
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        await bot.keyboards.save()
    assert len(bot.keyboards.unsaved) == 1, "kept, to be written before the next call"
    (tmp_path / "missing").mkdir()
    await bot.keyboards.save()
    assert bot.keyboards.unsaved == []
    await store.close()


@pytest.fixture(scope="module")
def telegram() -> Iterator[BotApiServerThread]:
    server = BotApiServerThread(token="737373:SHARED-STATE").start()
    add_staff_group(server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_database() -> Iterator[str]:
    name = f"handoff_shared_{secrets.token_hex(4)}"
    asyncio.run(_databases(name))
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_databases(name, drop=True))


class Replica:
    """One bot process by webhook; the test points Telegram's webhook at the one it wants."""

    def __init__(self, name: str, stack: Stack, telegram: BotApiServerThread, database: str, tmp: Path) -> None:
        self.telegram = telegram
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        env = dict(stack.env)
        env.update({
            "TELEGRAM_API_URL": telegram.url, "TELEGRAM_BOT_TOKEN": telegram.token,
            "BOT_STATE_DIR": str(tmp / name), "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "HANDOFF_DATABASE_URL": database, "WEBHOOK_URL": self.url, "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_PORT": str(self.port),
        })
        (tmp / name).mkdir(exist_ok=True)
        self.service = Service(name, [sys.executable, "-m", "bot"], env, tmp / name, ready=self._listening)

    def _listening(self) -> bool:
        try:
            return httpx.post(self.url, json={}, timeout=2).status_code == 403
        except httpx.TransportError:
            return False

    def start(self) -> Replica:
        with BotApiDriver(self.telegram.url) as driver:
            before = len(driver.calls("setWebhook"))
            self.service.start()
            wait_until(lambda: len(driver.calls("setWebhook")) > before, 60, "the replica set its webhook")
        return self

    def take_updates(self) -> None:
        """Telegram delivers to this replica from now on."""
        response = httpx.post(
            f"{self.telegram.url}/bot{self.telegram.token}/setWebhook",
            json={"url": self.url, "secret_token": SECRET}, timeout=10,
        )
        assert response.json()["ok"], response.text


def _settings_message(citizen: TelegramUser) -> tuple[int, str]:
    citizen.send(SETTINGS)
    shown = answers(citizen, timeout=60)
    menu = next(m for m in shown if "🔡 Modalità compatta" in m.buttons)
    assert menu.message_id is not None
    return menu.message_id, menu.content


def test_a_button_shown_by_one_replica_is_answered_by_the_other_and_the_mode_follows(
    stack: Stack, telegram: BotApiServerThread, shared_database: str, tmp_path: Path
) -> None:
    first = Replica("bot-a", stack, telegram, shared_database, tmp_path).start()
    second = Replica("bot-b", stack, telegram, shared_database, tmp_path).start()
    try:
        with BotApiDriver(telegram.url) as driver:
            citizen = driver.user(990_001, first_name="Lucia")
            first.take_updates()
            menu, text = _settings_message(citizen)
            assert "modalità semplice" in text

            # The replica that showed the keyboard dies at once: its buttons mean the same on the other.
            first.service.kill()
            second.take_updates()
            citizen.press("🔡 Modalità compatta", message_id=menu)
            said = answers(citizen, 2, timeout=90)
            assert texts.COMPACT_MODE_ON in [m.content for m in said]
            compact_menu = next(m for m in said if "🔠 Pulsanti grandi" in m.buttons)

            # Back again: the first replica knows the mode chosen on the second, and its menu's button.
            first.start()
            first.take_updates()
            assert "modalità compatta" in _settings_message(citizen)[1]
            citizen.press("🔠 Pulsanti grandi", message_id=compact_menu.message_id)
            assert texts.SIMPLE_MODE_ON in [m.content for m in answers(citizen, timeout=60)]

            # The second one had "compatta" in memory: it reads the mode again at the next update.
            second.take_updates()
            assert "modalità semplice" in _settings_message(citizen)[1]
    finally:
        first.service.stop()
        second.service.stop()


def test_on_sqlite_a_killed_bot_keeps_the_mode_and_the_buttons(
    stack: Stack, telegram: BotApiServerThread, tmp_path: Path
) -> None:
    with BotApiDriver(telegram.url) as driver:
        bot = start_bot(stack, telegram, tmp_path)
        try:
            citizen = driver.user(990_101, first_name="Paolo")
            menu, _ = _settings_message(citizen)
            citizen.press("🔡 Modalità compatta", message_id=menu)
            said = answers(citizen, 2, timeout=90)
            assert texts.COMPACT_MODE_ON in [m.content for m in said]
            compact_menu = next(m for m in said if "🔠 Pulsanti grandi" in m.buttons)

            bot.kill()  # no time to save anything: what was not written through is lost
            assert (tmp_path / "handoff.db").exists() and not (tmp_path / "bot-state.pickle").exists()
            bot.start()
            assert "modalità compatta" in _settings_message(citizen)[1]
            # The menu shown before the kill still answers.
            citizen.press("🔠 Pulsanti grandi", message_id=compact_menu.message_id)
            assert texts.SIMPLE_MODE_ON in [m.content for m in answers(citizen, timeout=60)]
        finally:
            bot.stop()


async def test_on_postgresql_a_newer_telegram_id_gets_a_ticket_and_a_display_mode() -> None:
    name = f"handoff_narrow_{secrets.token_hex(4)}"
    await _databases(name)
    try:
        await _newer_ids(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    finally:
        await _databases(name, drop=True)


async def _newer_ids(shared_database: str) -> None:

    # A table made when chat_id was 32-bit is widened when the bot starts.
    plain = shared_database.replace("+asyncpg", "")
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(
            "CREATE TABLE handoff_tickets (id SERIAL PRIMARY KEY, chat_id INTEGER NOT NULL, "
            "topic VARCHAR(80) NOT NULL, thread_id INTEGER, status VARCHAR(16) NOT NULL, relaying BOOLEAN NOT NULL, "
            "staff_name VARCHAR(120), created_at TIMESTAMP NOT NULL, claimed_at TIMESTAMP, closed_at TIMESTAMP, "
            "close_note TEXT, rating INTEGER, told_unclaimed BOOLEAN NOT NULL)"
        )
    finally:
        await connection.close()
    newer = 7_123_456_789  # above 2³¹, as Telegram gives now
    store = await HandoffStore.open(shared_database)
    state = BotStateStore(shared_database, keyboards_kept=10)
    try:
        ticket = await store.create(newer, "anagrafe")
        assert (await store.open_ticket_of(newer)) == ticket
        await state.save_user_data(newer, {"display_mode": "compatta"})
        assert await state.user_data(newer) == {"display_mode": "compatta"}
    finally:
        await store.close()
        await state.close()


async def test_user_data_is_read_at_each_update_and_written_only_when_it_changed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
    one, other = DatabasePersistence(BotStateStore(url, 10)), DatabasePersistence(BotStateStore(url, 10))
    try:
        await one.get_user_data()
        seen: dict[str, object] = {}
        await one.refresh_user_data(7, seen)
        await one.update_user_data(7, seen)
        assert await one.store.user_data(7) is None, "nothing to keep: no row"
        seen["display_mode"] = "compatta"
        await one.update_user_data(7, seen)
        on_the_other: dict[str, object] = {"display_mode": "semplice"}  # what it had in memory
        await other.refresh_user_data(7, on_the_other)
        assert on_the_other == {"display_mode": "compatta"}
        await other.drop_user_data(7)
        assert await one.store.user_data(7) is None
    finally:
        await one.flush()
        await other.flush()
