"""A citizen who floods the chat is answered in turn, capped and told once; the others are served."""

from __future__ import annotations

from pathlib import Path

from bot import texts
from localtelegram import BotApiDriver, BotApiServerThread, BotMessage
from tests.stack import Stack, free_port, start_bot

FLOOD = 30
QUEUE_LIMIT = 3


def said(messages: list[BotMessage]) -> list[BotMessage]:
    return [m for m in messages if m.kind == "text"]


def test_a_flood_is_capped_told_once_and_does_not_hold_up_another_chat(stack: Stack, tmp_path: Path) -> None:
    # A Telegram of its own: the whole burst is waiting when the bot starts, so the bot gets
    # it in one getUpdates, as it would after a short network hiccup in a busy hour.
    with BotApiServerThread(token="515151:FLOOD-E2E") as telegram, BotApiDriver(telegram.url) as tg:
        flooder = tg.user(810_001, first_name="Ugo")
        other = tg.user(810_002, first_name="Ada")
        for _ in range(FLOOD):
            flooder.send("/menu")
        other.send("/menu")
        bot = start_bot(
            stack, telegram, tmp_path,
            BOT_MAX_CONCURRENT_UPDATES="1", BOT_CHAT_QUEUE_LIMIT=str(QUEUE_LIMIT),
            # No back office for this bot: it must not claim the notifications owed to the
            # chats of the session's bot.
            BACKOFFICE_URL=f"http://127.0.0.1:{free_port()}",
        )
        try:
            to_flooder = said(flooder.wait_replies(QUEUE_LIMIT + 2, timeout=60, settle=3))
            to_other = said(other.wait_replies(1, timeout=30))
        finally:
            bot.stop()
    told = [m for m in to_flooder if m.content == texts.TOO_FAST]
    menus = [m for m in to_flooder if m.content != texts.TOO_FAST]
    assert len(told) == 1, [str(m) for m in to_flooder]
    assert len(menus) == 1 + QUEUE_LIMIT, "the one being handled and those waiting; the rest dropped"
    assert all("🏠 Menu" in m.buttons for m in menus)
    # One processing slot in all: the other chat took it as soon as the flooder's first turn
    # ended, instead of waiting behind the whole flood.
    assert to_other and to_other[0].seq < menus[1].seq
