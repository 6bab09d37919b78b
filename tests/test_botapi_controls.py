"""The local Bot API server's controls for what a citizen's app, or Telegram itself, does unasked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden

from localtelegram import BotApiDriver, BotApiServerThread


@pytest.fixture(scope="module")
def botapi() -> Iterator[BotApiServerThread]:
    with BotApiServerThread(port=0, token="626262:CONTROLS") as server:
        yield server


@pytest.fixture
def tg(botapi: BotApiServerThread) -> Iterator[BotApiDriver]:
    driver = BotApiDriver(botapi.url)
    driver.reset()
    yield driver
    driver.close()


@pytest_asyncio.fixture
async def bot(botapi: BotApiServerThread) -> AsyncIterator[Bot]:
    async with Bot(botapi.token, base_url=botapi.bot_url, base_file_url=botapi.file_url) as ptb_bot:
        yield ptb_bot


async def confirmed(bot: Bot, allowed: list[str] | None = None) -> list[Update]:
    """Every pending update (asking for `allowed` kinds), then confirmed."""
    updates = list(await bot.get_updates(timeout=0, allowed_updates=allowed))
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0, allowed_updates=allowed)
    return updates


async def test_an_edited_text_and_a_moving_live_location_come_as_edited_messages(
    bot: Bot, tg: BotApiDriver
) -> None:
    rosa = tg.user(3001, first_name="Rosa")
    text = await asyncio.to_thread(rosa.send, "ciao")
    live = await asyncio.to_thread(rosa.send_location, 41.99, 12.09, live_period=900)
    await confirmed(bot)
    edited = await asyncio.to_thread(rosa.edit, text["message_id"], "ciao, vorrei un certificato")
    moved = await asyncio.to_thread(rosa.move_location, live["message_id"], 42.0, 12.1)
    assert edited["edit_date"] and moved["location"]["live_period"] == 900
    first, second = await confirmed(bot)
    assert first.edited_message and first.edited_message.text == "ciao, vorrei un certificato"
    assert first.edited_message.message_id == text["message_id"] and first.message is None
    assert second.edited_message and second.edited_message.location
    assert second.edited_message.location.latitude == 42.0 and second.edited_message.location.live_period == 900


async def test_edits_are_not_delivered_to_a_bot_that_did_not_ask_for_them(bot: Bot, tg: BotApiDriver) -> None:
    rosa = tg.user(3002, first_name="Rosa")
    live = await asyncio.to_thread(rosa.send_location, 41.99, 12.09, live_period=900)
    await confirmed(bot, ["message", "callback_query"])
    for step in range(3):
        await asyncio.to_thread(rosa.move_location, live["message_id"], 42.0 + step / 100, 12.1)
    await asyncio.to_thread(rosa.send, "grazie")
    [update] = await confirmed(bot, ["message", "callback_query"])
    assert update.message and update.message.text == "grazie"


async def test_only_the_sender_edits_and_only_a_live_location_moves(tg: BotApiDriver) -> None:
    rosa, ugo = tg.user(3003, first_name="Rosa"), tg.user(3004, first_name="Ugo")
    still = await asyncio.to_thread(rosa.send_location, 41.99, 12.09)
    with pytest.raises(RuntimeError, match="can't be edited"):
        await asyncio.to_thread(rosa.move_location, still["message_id"], 42.0, 12.1)
    text = await asyncio.to_thread(rosa.send, "ciao")
    with pytest.raises(RuntimeError, match="not found|can't be edited"):
        await asyncio.to_thread(ugo.edit, text["message_id"], "non è mio")


async def test_a_method_can_be_made_to_fail_as_telegram_would_refuse_it(bot: Bot, tg: BotApiDriver) -> None:
    staff = tg.group(-1009876543210, "Staff", forum=True)
    await asyncio.to_thread(tg.fail, "createForumTopic", 2, description="Bad Request: not enough rights")
    for _ in range(2):
        with pytest.raises(BadRequest, match="(?i)not enough rights"):
            await bot.create_forum_topic(staff.chat_id, "#1 – Tributi")
    assert (await bot.create_forum_topic(staff.chat_id, "#1 – Tributi")).name == "#1 – Tributi"
    await asyncio.to_thread(tg.fail, "createForumTopic", error_code=403, description="Forbidden: bot was kicked")
    with pytest.raises(Forbidden):
        await bot.create_forum_topic(staff.chat_id, "#2 – Anagrafe")
    refused = [c for c in await asyncio.to_thread(tg.calls, "createForumTopic") if not c["ok"]]
    assert [c["error_code"] for c in refused] == [400, 400, 403]
    assert [t["name"] for t in await asyncio.to_thread(staff.topics)] == ["#1 – Tributi"]


async def test_a_user_who_wrote_before_the_server_started_can_be_written_to_first(
    bot: Bot, tg: BotApiDriver
) -> None:
    stranger = tg.user(3101, first_name="Nuovo")
    with pytest.raises(Forbidden, match="(?i)initiate conversation"):
        await bot.send_message(stranger.chat_id, "Promemoria")
    known = tg.user(3102, first_name="Già iscritto", started=True)
    sent = await bot.send_message(known.chat_id, "Promemoria")
    assert sent.chat.id == known.chat_id
    assert await bot.get_updates(timeout=0) == (), "an earlier conversation sends no update"
