"""The bot's own small rules, with no network: typed text, payloads, splitting, QR, ordering."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import ApplicationHandlerStop, ExtBot, InvalidCallbackData

from bot.app import build_application
from bot.handlers import _PAYLOAD, typed_text_for_rasa
from bot.ordering import PerChatUpdateProcessor
from bot.render import ButtonChoice, keyboard, qr_png, split_text
from sportello.settings import Settings


def test_typed_text_never_reaches_rasa_as_an_intent_payload() -> None:
    assert typed_text_for_rasa('/tax_pay{"notice_number": "1"}') == 'tax_pay{"notice_number": "1"}'
    assert typed_text_for_rasa("  //menu ") == "menu"
    assert typed_text_for_rasa("/") == "?"
    assert typed_text_for_rasa("ciao") == "ciao"


@pytest.mark.parametrize(
    "payload", ["/main_menu", '/faq{"faq_topic": "contacts"}', "/faq/office_hours"]
)
def test_button_payloads_of_the_domain_are_accepted(payload: str) -> None:
    assert _PAYLOAD.match(payload)


@pytest.mark.parametrize("payload", ["ciao", "/Main Menu", "/x\n/y", "/menu" + "{" + "a" * 500 + "}"])
def test_anything_else_is_not_a_button_payload(payload: str) -> None:
    assert not _PAYLOAD.match(payload)


def test_long_texts_are_split_at_line_or_word_boundaries_under_telegram_limit() -> None:
    text = ("riga di testo abbastanza lunga\n" * 300).strip()
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(0 < len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces).split() == text.split()


def test_one_big_button_per_row() -> None:
    markup = keyboard([{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}, {"title": ""}])
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["A"], ["B"]]


def test_qr_png_is_a_png_image() -> None:
    assert qr_png("PAGOPA|002|301000000000000000|01234567890|1000").startswith(b"\x89PNG")


def _update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "Test", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_updates_of_one_chat_run_in_order_and_other_chats_run_alongside() -> None:
    processor = PerChatUpdateProcessor()
    log: list[tuple[int, int]] = []

    async def handle(update_id: int, chat_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        log.append((chat_id, update_id))

    jobs = [
        # Chat 1's first update is the slowest: the others of chat 1 must wait for it.
        processor.process_update(_update(1, 1), handle(1, 1, 0.05)),
        processor.process_update(_update(2, 1), handle(2, 1, 0.0)),
        processor.process_update(_update(3, 2), handle(3, 2, 0.0)),
        processor.process_update(_update(4, 1), handle(4, 1, 0.0)),
    ]
    await asyncio.gather(*jobs)
    assert [u for c, u in log if c == 1] == [1, 2, 4]
    assert log[0] == (2, 3), "another chat is not held up by a slow one"
    assert processor._lines == {}, "idle chats are forgotten"


def _recorder(told: list[int]) -> Callable[[int], Awaitable[None]]:
    async def tell(chat_id: int) -> None:
        told.append(chat_id)

    return tell


async def _flood(
    processor: PerChatUpdateProcessor, chat_id: int, count: int, release: asyncio.Event, handled: list[int]
) -> list[asyncio.Task[None]]:
    """`count` updates of one chat, each held until `release`; started and queued on return."""

    async def slow(update_id: int) -> None:
        await release.wait()
        handled.append(update_id)

    tasks = [
        asyncio.create_task(processor.process_update(_update(n, chat_id), slow(n))) for n in range(1, count + 1)
    ]
    await asyncio.sleep(0.01)
    return tasks


async def test_a_flooding_chat_does_not_take_the_slots_of_the_other_chats() -> None:
    told: list[int] = []
    processor = PerChatUpdateProcessor(max_concurrent_updates=4, queue_limit=20, tell=_recorder(told))
    release, handled = asyncio.Event(), []
    flood = await _flood(processor, 1, 300, release, handled)
    other: list[int] = []

    async def quick() -> None:
        other.append(2)

    # Chat 1 is still stuck on its first update: chat 2 is handled at once all the same.
    await asyncio.wait_for(processor.process_update(_update(1000, 2), quick()), 1)
    assert other == [2]
    assert told == [1], "the flooding chat is told once, not at every dropped update"
    release.set()
    await asyncio.gather(*flood)
    assert handled == list(range(1, 22)), "the one being handled and 20 waiting, in order; the rest dropped"
    assert processor._lines == {}


async def test_a_new_burst_is_told_again_and_the_staff_group_is_never_capped() -> None:
    told: list[int] = []
    staff = -100123
    processor = PerChatUpdateProcessor(max_concurrent_updates=2, queue_limit=3, uncapped={staff}, tell=_recorder(told))
    for _ in range(2):
        release, handled = asyncio.Event(), []
        flood = await _flood(processor, 7, 10, release, handled)
        release.set()
        await asyncio.gather(*flood)
        assert handled == [1, 2, 3, 4]
    assert told == [7, 7]
    release, handled = asyncio.Event(), []
    flood = await _flood(processor, staff, 300, release, handled)
    release.set()
    await asyncio.gather(*flood)
    assert handled == list(range(1, 301)) and told == [7, 7]


def test_an_https_payload_is_a_link_button_and_the_rest_go_back_to_the_assistant() -> None:
    markup = keyboard([
        {"title": "💳 Paga online", "payload": "https://pagopa.example/checkout/abc"},
        {"title": "🏠 Menu", "payload": "/main_menu"},
        {"title": "Locale", "payload": "http://127.0.0.1/checkout/abc"},
    ])
    assert markup is not None
    online, menu, local = (row[0] for row in markup.inline_keyboard)
    assert online.url == "https://pagopa.example/checkout/abc" and online.callback_data is None
    assert menu.url is None and menu.callback_data is not None
    assert local.url is None, "Telegram opens only https links from a button"


async def test_an_edited_message_is_stopped_before_any_handler_of_the_citizen(tmp_path: Path) -> None:
    settings = Settings(telegram_bot_token="1:UNIT", bot_state_dir=str(tmp_path))  # type: ignore[arg-type]
    application = build_application(settings)
    first_group = min(application.handlers)
    guards = application.handlers[first_group]
    edited = Update(9, edited_message=_update(9, 1).message)
    assert first_group < -1 and any(guard.check_update(edited) for guard in guards)
    assert not any(guard.check_update(_update(10, 1)) for guard in guards), "new messages go on"
    guard = next(guard for guard in guards if guard.check_update(edited))
    with pytest.raises(ApplicationHandlerStop):
        await guard.callback(edited, None)  # type: ignore[arg-type]


def _shown(bot: ExtBot, title: str) -> InlineKeyboardMarkup:  # type: ignore[type-arg]
    """A keyboard as it leaves for Telegram: its buttons' meaning kept, a key in callback_data."""
    markup = keyboard([{"title": title, "payload": "/main_menu"}, {"title": "🙋", "payload": "/human_handoff"}])
    assert markup is not None
    return bot.callback_data_cache.process_keyboard(markup)  # type: ignore[union-attr]


def _tap(bot: ExtBot, markup: InlineKeyboardMarkup) -> object:  # type: ignore[type-arg]
    """What the callback of a tap on the keyboard's first button reads in query.data."""
    user = User(5, "Rosa", is_bot=False)
    query = CallbackQuery("q1", user, "instance", data=markup.inline_keyboard[0][0].callback_data)
    update = Update(1, callback_query=query)
    bot.insert_callback_data(update)
    assert update.callback_query is not None
    return update.callback_query.data


def test_a_keyboard_still_works_after_ten_thousand_others_were_shown(tmp_path: Path) -> None:
    settings = Settings(telegram_bot_token="1:UNIT", bot_state_dir=str(tmp_path))  # type: ignore[arg-type]
    bot = build_application(settings).bot
    assert isinstance(bot, ExtBot)
    first = _shown(bot, "Il primo")
    for n in range(settings.bot_button_store_size - 1):
        _shown(bot, f"Tastiera {n}")
    assert _tap(bot, first) == ButtonChoice("/main_menu", "Il primo")
    # One more than the store holds: the oldest untouched keyboard gets the fresh menu.
    second = _shown(bot, "Il secondo")
    for n in range(settings.bot_button_store_size):
        _shown(bot, f"Altra {n}")
    assert isinstance(_tap(bot, second), InvalidCallbackData)
