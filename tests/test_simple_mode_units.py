"""Modalità semplice with no stack: labels, emoji, modes, and how the renderer shows the menu."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from telegram.ext import ExtBot

from bot import simple_mode
from bot.render import Renderer
from bot.simple_mode import Display
from localtelegram import BotApiDriver, BotApiServerThread

MAIN_MENU = [
    {"title": "📄 Nuova pratica", "payload": "/practice_submit"},
    {"title": "🔎 Stato pratica", "payload": "/practice_status"},
    {"title": "💶 Tributi", "payload": "/tax_check"},
    {"title": "📅 Prenota sportello", "payload": "/appointment_book"},
    {"title": "❓ Domande frequenti", "payload": "/help"},
    {"title": "🔒 Dati personali", "payload": "/privacy_request"},
    {"title": "🔔 Avvisi", "payload": "/announcements"},
    {"title": "🙋 Parla con una persona", "payload": "/human_handoff"},
]
MENU_OR_PERSON = [
    {"title": "🏠 Menu", "payload": "/main_menu"},
    {"title": "🙋 Parla con una persona", "payload": "/human_handoff"},
]


@pytest.mark.parametrize(
    ("typed", "payload"),
    [
        ("📄 Nuova pratica", "/practice_submit"),
        ("🔎 Stato pratica", "/practice_status"),
        ("💶 Tributi", "/tax_check"),
        ("📅 Prenota", "/appointment_book"),
        ("❓ Domande", "/help"),
        ("🏠 Menu", "/main_menu"),
        ("🙋 Parla con una persona", "/human_handoff"),
        ("🔒 Dati personali", "/privacy_request"),
        ("🔔 Avvisi", "/announcements"),
        # What a phone may do to a label: drop the variation selector, change case or spaces.
        ("💶  tributi ", "/tax_check"),
        ("❓\ufe0f Domande", "/help"),
    ],
)
def test_a_big_buttons_label_is_its_intent_payload(typed: str, payload: str) -> None:
    assert simple_mode.payload_of_label(typed) == payload


@pytest.mark.parametrize("typed", ["tributi", "vorrei pagare i tributi", "💶", "📄 Nuova pratica edilizia"])
def test_typed_words_are_not_taken_for_a_big_button(typed: str) -> None:
    assert simple_mode.payload_of_label(typed) is None


def test_every_big_button_is_an_intent_of_the_conversation_contract() -> None:
    assert {b.payload for b in simple_mode.BIG_BUTTONS} == {
        "/practice_submit", "/practice_status", "/tax_check", "/appointment_book", "/help",
        "/human_handoff", "/main_menu", "/privacy_request", "/announcements",
    }
    labels = list(simple_mode.KEYBOARD_LABELS)
    assert len(labels) == len(set(labels))
    # Emoji and one or two words, except the way to a person, which has a row of its own.
    assert all(len(label.split()) <= 3 for label in labels if label != "🙋 Parla con una persona")


def test_the_keyboard_stays_under_the_chat_and_fits_the_screen() -> None:
    markup = simple_mode.big_keyboard().to_dict()
    assert markup["is_persistent"] is True and markup["resize_keyboard"] is True
    assert not markup.get("one_time_keyboard")
    rows = [[b["text"] if isinstance(b, dict) else b for b in row] for row in markup["keyboard"]]
    assert all(len(row) <= 2 for row in rows)
    assert rows[-1] == ["🔒 Dati personali", simple_mode.SETTINGS_LABEL]


@pytest.mark.parametrize(
    ("typed", "mode"),
    [
        ("modalità compatta", "compatta"),
        ("Modalita semplice", "semplice"),
        ("passa alla modalità compatta!", "compatta"),
        ("voglio la MODALITÀ SEMPLICE per favore", "semplice"),
        ("ciao", None),
        ("la modalità di pagamento semplice è con pagoPA, vero? vorrei sapere come funziona", None),
    ],
)
def test_a_typed_mode_is_understood_by_the_bot(typed: str, mode: str | None) -> None:
    assert simple_mode.requested_mode(typed) == mode


@pytest.mark.parametrize("typed", ["⚙️ Impostazioni", "⚙ impostazioni", "Impostazioni"])
def test_settings_are_asked_by_button_or_word(typed: str) -> None:
    assert simple_mode.asks_for_settings(typed)


@pytest.mark.parametrize(
    ("text", "emoji_only", "payload"),
    [
        ("👍", True, "/thank"),
        ("👍🏻", True, "/thank"),
        ("🙏", True, "/thank"),
        ("❤️", True, "/thank"),
        ("😀😀", True, "/main_menu"),
        ("👎", True, "/main_menu"),
        ("👍 👎", True, "/main_menu"),
        ("🇮🇹", True, "/main_menu"),
        ("👍 ok", False, None),
        ("1️⃣", False, None),
        ("", False, None),
        ("   ", False, None),
    ],
)
def test_an_emoji_only_message_reads_as_thanks_or_asks_for_the_menu(
    text: str, emoji_only: bool, payload: str | None
) -> None:
    assert simple_mode.is_emoji_only(text) is emoji_only
    if payload is not None:
        assert simple_mode.emoji_payload(text) == payload


def test_only_the_whole_main_menu_becomes_the_big_keyboard() -> None:
    assert simple_mode.is_main_menu(MAIN_MENU)
    assert not simple_mode.is_main_menu(MENU_OR_PERSON)
    assert not simple_mode.is_main_menu([*MAIN_MENU, {"title": "💳 Paga", "payload": "/tax_pay"}])


def test_a_new_citizen_is_in_simple_mode_and_the_choice_is_kept() -> None:
    user_data: dict[Any, Any] = {}
    display = Display.of(user_data)
    assert display.simple and not display.keyboard_on_screen
    display.simple = False
    display.save(user_data)
    assert Display.of(user_data).mode == "compatta"
    assert Display.of(None).simple


@pytest.fixture()
def telegram() -> Iterator[BotApiServerThread]:
    server = BotApiServerThread(token="727272:SIMPLE-TEST").start()
    yield server
    server.stop()


async def render(telegram: BotApiServerThread, chat_id: int, answers: list[dict[str, Any]], display: Display) -> None:
    async with aiohttp.ClientSession() as session, ExtBot(
        telegram.token, base_url=telegram.bot_url, base_file_url=telegram.file_url, arbitrary_callback_data=True
    ) as bot:
        await Renderer(bot, session).render(chat_id, answers, display)


async def test_in_simple_mode_the_menu_is_the_big_keyboard_and_the_first_words_bring_it(
    telegram: BotApiServerThread,
) -> None:
    driver = BotApiDriver(telegram.url)
    citizen = driver.user(990_101, first_name="Ada")
    citizen.send("ciao")
    display = Display()
    await render(telegram, citizen.chat_id, [
        {"text": "Orari degli uffici: …"},
        {"text": "Posso aiutarti in altro?", "buttons": MENU_OR_PERSON},
    ], display)
    await render(telegram, citizen.chat_id, [{"text": "Ecco."}, {"text": "Cosa vuoi fare?", "buttons": MAIN_MENU}], display)
    said = driver.outputs(citizen.chat_id)
    assert [m.keyboard_type for m in said] == ["reply", "inline", None, "reply"]
    assert said[3].content == "Cosa vuoi fare?" and said[3].buttons == list(simple_mode.KEYBOARD_LABELS)
    assert display.keyboard_on_screen
    driver.close()


async def test_in_compact_mode_the_menu_stays_inline_with_a_way_back(telegram: BotApiServerThread) -> None:
    driver = BotApiDriver(telegram.url)
    citizen = driver.user(990_102, first_name="Bruno")
    citizen.send("ciao")
    display = Display(simple=False)
    await render(telegram, citizen.chat_id, [{"text": "Ciao."}, {"text": "Cosa vuoi fare?", "buttons": MAIN_MENU}], display)
    said = driver.outputs(citizen.chat_id)
    assert [m.keyboard_type for m in said] == [None, "inline"]
    assert said[1].buttons == [b["title"] for b in MAIN_MENU] + ["🔠 Pulsanti grandi"]
    assert citizen.keyboard() == [] and not display.keyboard_on_screen
    driver.close()
