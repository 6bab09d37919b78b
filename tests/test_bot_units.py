"""The bot's own small rules, with no network: typed text, payloads, splitting, QR, ordering."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Chat, Message, Update, User

from bot.handlers import _PAYLOAD, typed_text_for_rasa
from bot.ordering import PerChatUpdateProcessor
from bot.render import keyboard, qr_png, split_text


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
    assert processor._locks == {}, "idle chats are forgotten"


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
