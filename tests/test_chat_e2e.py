"""A citizen talks to the whole assistant over the local Bot API server: bot, Rasa, actions, back office."""

from __future__ import annotations

import pytest

from localtelegram import BotApiDriver, BotMessage, TelegramUser
from tests.stack import Service, Stack, mint_link_code

# The main menu, as the big buttons under the chat that a new citizen has (modalità semplice).
MENU = [
    "📄 Nuova pratica",
    "🔎 Stato pratica",
    "💶 Tributi",
    "📅 Prenota",
    "❓ Domande",
    "🏠 Menu",
    "🔔 Avvisi",
    "🙋 Parla con una persona",
    "🔒 Dati personali",
    "⚙️ Impostazioni",
]
MENU_BUTTON = "🏠 Menu"
PERSON_BUTTON = "🙋 Parla con una persona"


SAID = ("text", "photo", "document")


def answers(citizen: TelegramUser, min_count: int = 1, timeout: float = 30.0) -> list[BotMessage]:
    """What the bot said to the citizen next (edits of old messages left out), once it is quiet."""
    got = [m for m in citizen.wait_replies(1, timeout, settle=0.4) if m.kind in SAID]
    while len(got) < min_count:
        got += [m for m in citizen.wait_replies(1, timeout, settle=0.4) if m.kind in SAID]
    return got


def answer(citizen: TelegramUser, timeout: float = 30.0) -> BotMessage:
    said = answers(citizen, 1, timeout)
    assert len(said) == 1, f"expected one answer, got {[str(m) for m in said]}"
    return said[0]


def last_with_buttons(replies: list[BotMessage]) -> BotMessage:
    with_buttons = [r for r in replies if r.buttons]
    assert with_buttons, f"no reply offers buttons: {[str(r) for r in replies]}"
    return with_buttons[-1]


def test_start_says_it_is_an_automated_assistant_and_shows_the_menu(citizen: TelegramUser) -> None:
    citizen.send("/start")
    reply = answer(citizen)
    assert "assistente automatico del Comune di Cerveteri" in reply.content
    assert "non una persona" in reply.content
    assert reply.buttons == MENU


def test_a_typed_question_about_office_hours_gets_the_answer(citizen: TelegramUser) -> None:
    citizen.send("a che ora apre il comune?")
    replies = answers(citizen, 2)
    assert "Orari degli uffici" in replies[0].content and "Ufficio Tributi" in replies[0].content
    assert MENU_BUTTON in last_with_buttons(replies).buttons


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ("📄 Nuova pratica", "Che pratica vuoi presentare?"),
        ("🔎 Stato pratica", "numero di protocollo"),
        ("💶 Tributi", "devo sapere chi sei"),  # taxes and bookings are the citizen's own
        ("📅 Prenota", "devo sapere chi sei"),
        ("❓ Domande", "domande più frequenti"),
        ("🙋 Parla con una persona", "in coda"),  # open or closed, the citizen is queued
        ("🔒 Dati personali", "I tuoi dati"),
    ],
)
def test_each_menu_button_gets_a_sensible_next_step(citizen: TelegramUser, button: str, expected: str) -> None:
    citizen.send("/menu")
    answer(citizen)
    citizen.press(button)
    replies = answers(citizen, 1)
    text = "\n".join(r.content for r in replies)
    assert expected in text
    offered = last_with_buttons(replies).buttons
    if button == PERSON_BUTTON:
        assert offered == ["↩️ Torna all'assistente"]
    else:
        assert MENU_BUTTON in offered and PERSON_BUTTON in offered


def test_pressing_a_faq_topic_answers_it(citizen: TelegramUser) -> None:
    citizen.send("/aiuto")
    answer(citizen)
    citizen.press("🪪 Carta d'identità")
    replies = answers(citizen, 2)
    assert "22,21" in replies[0].content
    assert "Posso aiutarti in altro?" in replies[-1].content


def test_the_offices_to_book_come_from_the_back_office(citizen: TelegramUser, stack: Stack) -> None:
    citizen.send(f"/start {mint_link_code(stack, 'RSSMRA50C12C552D')}")
    answers(citizen, 2)
    citizen.send("vorrei prenotare un appuntamento allo sportello")
    reply = answer(citizen)
    assert "Per quale ufficio" in reply.content
    offices = " ".join(reply.buttons)
    assert "Ufficio Tributi" in offices and "Carta d'identità" in offices
    assert MENU_BUTTON in reply.buttons and PERSON_BUTTON in reply.buttons


def test_gibberish_gets_the_fallback_then_the_offer_of_a_person(citizen: TelegramUser) -> None:
    citizen.send("sdfkj qwpoe zzxq")
    first = answer(citizen)
    assert "non ho capito" in first.content
    assert first.buttons == [MENU_BUTTON, PERSON_BUTTON]
    citizen.send("blorf wuzzle kraa")
    second = answer(citizen)
    assert "Vuoi parlare con una persona" in second.content
    assert "🙋 Sì, parla con una persona" in second.buttons
    # Understood again: the conversation goes on, the fallback does not stick.
    citizen.send("/menu")
    assert answer(citizen).buttons == MENU


def test_a_forged_button_gets_a_fresh_menu_and_no_crash(citizen: TelegramUser, tg: BotApiDriver) -> None:
    citizen.send("/menu")
    menu = answer(citizen)
    assert menu.message_id is not None
    citizen.press_raw(menu.message_id, "/tax_pay{\"notice_number\": \"301000000000000000\"}")
    replies = answers(citizen, 2)
    assert "non è più valido" in replies[0].content
    assert replies[-1].buttons == MENU
    alert = citizen.wait_callback_answer()
    assert alert.text == "Pulsante scaduto"
    citizen.send("grazie")
    assert "Di niente" in answer(citizen).content


def test_a_pressed_button_closes_its_keyboard(citizen: TelegramUser, tg: BotApiDriver) -> None:
    citizen.send("/aiuto")
    topics = answer(citizen)
    citizen.press("📍 Dove siamo")
    answers(citizen)
    edits = [m for m in tg.outputs(citizen.chat_id, kinds=["edit"]) if m.message_id == topics.message_id]
    assert edits and edits[-1].reply_markup in (None, {})


def test_typed_slash_text_is_not_read_as_a_hidden_intent(citizen: TelegramUser) -> None:
    citizen.send('/tax_pay{"notice_number": "301000000000000000"}')
    # Read as plain words (see test_bot_units), answered like any other message.
    assert answer(citizen).buttons


def test_a_voice_message_gets_a_kind_answer_and_the_menu(citizen: TelegramUser) -> None:
    citizen.send_voice(b"OggS\x00fake-voice")
    replies = answers(citizen, 2)
    assert "messaggi vocali" in replies[0].content
    assert replies[-1].buttons == MENU


def test_a_sticker_gets_an_answer_not_silence(citizen: TelegramUser) -> None:
    citizen.send_sticker("🐱")
    replies = answers(citizen, 2)
    assert "adesivo" in replies[0].content
    assert replies[-1].buttons == MENU


def test_a_photo_and_a_location_out_of_context_are_acknowledged(citizen: TelegramUser) -> None:
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
    citizen.send_photo(png)
    reply = answer(citizen)
    # A chat linked to nobody sends no file: it is told why, and how to link.
    assert "solo in una chat collegata" in reply.content and "🔗 Ho il codice" in reply.buttons
    citizen.send_location(41.9956, 12.0986)
    assert "Dimmi prima cosa vuoi fare" in answer(citizen).content


def test_edited_messages_start_no_turn(citizen: TelegramUser, tg: BotApiDriver) -> None:
    # A live location is edited every few seconds while the phone moves: no answer each time.
    live = citizen.send_location(41.9956, 12.0986, live_period=900)
    assert "Dimmi prima cosa vuoi fare" in answer(citizen).content
    for step in range(3):
        citizen.move_location(live["message_id"], 41.9956 + step / 1000, 12.0986)
    typed = citizen.send("grazie")
    assert "Di niente" in answer(citizen).content
    citizen.edit(typed["message_id"], "voglio parlare con un operatore")
    citizen.expect_silence(within=3)
    asked = tg.calls("getUpdates")[-1]["params"].get("allowed_updates")
    assert asked is not None and "edited_message" not in str(asked)


def test_a_very_long_message_and_an_emoji_only_one_get_an_answer(citizen: TelegramUser) -> None:
    citizen.send("buongiorno " + "vorrei sapere una cosa " * 173)
    assert answer(citizen).buttons
    citizen.send("😀😀😀")
    assert answer(citizen).buttons


def test_messages_of_one_chat_are_answered_in_order(citizen: TelegramUser) -> None:
    for _ in range(3):
        citizen.send("/menu")
        citizen.send("grazie")
    replies = answers(citizen, 6)
    kinds = ["menu" if r.buttons == MENU else "thanks" for r in replies]
    assert kinds == ["menu", "thanks"] * 3


def test_back_office_down_gets_a_kind_answer(citizen: TelegramUser, stack: Stack) -> None:
    stack.backoffice.stop()
    try:
        citizen.send("/menu")
        answer(citizen)
        citizen.press("📅 Prenota")
        reply = answer(citizen)
        assert "non risponde in questo momento" in reply.content
        assert PERSON_BUTTON in reply.buttons
        # The office-hours question still gets the general answer kept in the domain.
        citizen.send("orari del comune?")
        general = answers(citizen, 2)
        assert "di solito" in general[0].content.lower()
    finally:
        stack.backoffice.start()


def test_rasa_down_gets_a_kind_answer_and_recovers(citizen: TelegramUser, stack: Stack, bot: Service) -> None:
    stack.rasa.stop()
    try:
        citizen.send("ciao")
        reply = answer(citizen)
        assert "non riesco a rispondere" in reply.content
        assert "06 896301" in reply.content
    finally:
        stack.rasa.start()
    citizen.send("ciao")
    back = answer(citizen)
    assert back.buttons == MENU, back.content
