"""Modalità semplice over the local Bot API server: big buttons, compact mode, nothing met by silence."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot import simple_mode
from localtelegram import BotMessage, TelegramUser
from tests.stack import Service, Stack, rasa_turn
from tests.taps import MAX_TAPS, TASKS, Task, walk
from tests.test_chat_e2e import answers

BIG_BUTTONS = [
    ["📄 Nuova pratica", "🔎 Stato pratica"],
    ["💶 Tributi", "📅 Prenota"],
    ["❓ Domande", "🏠 Menu"],
    ["🔔 Avvisi"],
    ["🙋 Parla con una persona"],
    ["🔒 Dati personali", "⚙️ Impostazioni"],
]
PERSON = "🙋 Parla con una persona"
BACK_TO_ASSISTANT = "↩️ Torna all'assistente"
Send = Callable[[TelegramUser], object]


def said(replies: list[BotMessage]) -> str:
    return "\n".join(r.content for r in replies)


def test_the_big_buttons_arrive_with_the_first_answer_of_start(citizen: TelegramUser) -> None:
    citizen.send("/start")
    [greeting] = answers(citizen)  # one message: the keyboard rides on the answer itself
    assert "assistente automatico" in greeting.content
    assert greeting.keyboard_type == "reply"
    assert greeting.reply_markup is not None
    assert greeting.reply_markup["is_persistent"] is True and greeting.reply_markup["resize_keyboard"] is True
    assert greeting.button_rows == BIG_BUTTONS
    assert citizen.keyboard() == BIG_BUTTONS


def test_the_first_answer_to_a_question_brings_the_big_buttons_too(citizen: TelegramUser) -> None:
    citizen.send("a che ora apre il comune?")
    replies = answers(citizen, 2)
    assert replies[0].keyboard_type == "reply"
    assert citizen.keyboard() == BIG_BUTTONS


@pytest.mark.parametrize(
    ("label", "payload"),
    [(b.label, b.payload) for b in simple_mode.BIG_BUTTONS if b.payload != "/human_handoff"],
)
def test_each_big_button_sends_its_intent_not_a_guess(
    citizen: TelegramUser, stack: Stack, label: str, payload: str
) -> None:
    citizen.send("/start")
    answers(citizen)
    citizen.press(label, keyboard=True)
    replies = answers(citizen)
    # Rasa's own answer to the payload, for a citizen in the same place: the same words.
    expected = [a["text"] for a in rasa_turn(stack, f"probe-{citizen.user_id}", payload) if a.get("text")]
    assert [r.content for r in replies if r.kind == "text"][: len(expected)] == expected


def test_the_big_person_button_hands_the_chat_to_a_person(citizen: TelegramUser) -> None:
    citizen.send("/start")
    answers(citizen)
    citizen.press(PERSON, keyboard=True)
    assert "in coda" in said(answers(citizen))


def test_compact_mode_removes_the_big_buttons_and_simple_mode_restores_them(
    citizen: TelegramUser, bot: Service
) -> None:
    citizen.send("/start")
    answers(citizen)
    citizen.press("⚙️ Impostazioni", keyboard=True)
    settings = answers(citizen)[-1]
    assert "Ora usi la modalità semplice" in settings.content
    assert "🔡 Modalità compatta" in settings.buttons and PERSON in settings.buttons
    citizen.press("🔡 Modalità compatta")
    confirmation, menu = answers(citizen, 2)
    assert "modalità compatta" in confirmation.content and confirmation.keyboard_type == "remove"
    assert citizen.keyboard() == []
    assert menu.keyboard_type == "inline" and "📄 Nuova pratica" in menu.buttons and PERSON in menu.buttons
    assert "🔠 Pulsanti grandi" in menu.buttons

    # The choice is the citizen's, and it survives a restart of the bot.
    bot.stop()
    bot.start()
    citizen.send("/menu")
    again = answers(citizen)[-1]
    assert again.keyboard_type == "inline" and citizen.keyboard() == []

    citizen.send("modalità semplice")
    back = answers(citizen)[-1]
    assert "modalità semplice" in back.content and back.keyboard_type == "reply"
    assert citizen.keyboard() == BIG_BUTTONS
    citizen.send("/impostazioni")
    assert "Ora usi la modalità semplice" in answers(citizen)[-1].content


def test_the_compact_menu_has_one_tap_back_to_the_big_buttons(citizen: TelegramUser) -> None:
    citizen.send("modalità compatta")
    answers(citizen, 2)
    citizen.press("🔠 Pulsanti grandi")
    assert "modalità semplice" in answers(citizen)[-1].content
    assert citizen.keyboard() == BIG_BUTTONS


def test_a_voice_message_offers_the_menu_and_a_person(citizen: TelegramUser) -> None:
    citizen.send_voice(b"OggS\x00fake-voice", duration=4)
    kind_words, menu = answers(citizen, 2)
    assert "Non riesco ad ascoltare i messaggi vocali" in kind_words.content
    assert kind_words.buttons == [PERSON]
    assert menu.keyboard_type == "reply" and citizen.keyboard() == BIG_BUTTONS
    citizen.press(PERSON, message_id=kind_words.message_id)
    assert "in coda" in said(answers(citizen))


@pytest.mark.parametrize(
    ("send", "words"),
    [
        (lambda c: c.send_audio(b"ID3fake-mp3", 40), "messaggi vocali"),
        (lambda c: c.send_video_note(b"\x00\x00\x00\x18ftypmp42"), "videomessaggi"),
        (lambda c: c.send_sticker("🐱"), "adesivo"),
        (lambda c: c.send_animation(b"\x00\x00\x00\x18ftypmp42"), "GIF"),
        (lambda c: c.send_video(b"\x00\x00\x00\x18ftypmp42"), "video"),
        (lambda c: c.send_contact("+393331234567", "Maria"), "numero di telefono"),
        (lambda c: c.send_dice("🎲"), "non so giocare"),
        (lambda c: c.send_poll("Pizza o pasta?", ["Pizza", "Pasta"]), "sondaggi"),
    ],
    ids=["audio", "video_note", "sticker", "gif", "video", "contact", "dice", "poll"],
)
def test_what_the_assistant_cannot_read_gets_a_short_answer_and_the_menu(
    citizen: TelegramUser, send: Send, words: str
) -> None:
    send(citizen)
    replies = answers(citizen, 2)
    assert words in replies[0].content
    assert "Posso ricevere solo PDF" not in said(replies)  # a GIF is not an upload
    assert replies[-1].keyboard_type == "reply" and replies[-1].button_rows == BIG_BUTTONS


@pytest.mark.parametrize(
    ("send", "words"),
    [
        (lambda c: c.send("👍"), "Di niente"),
        (lambda c: c.send("🙏"), "Di niente"),
        (lambda c: c.send_sticker("👍"), "Di niente"),
        (lambda c: c.send("😀😀"), "Cosa vuoi fare?"),
    ],
    ids=["thumbs-up", "folded-hands", "thumbs-up-sticker", "faces"],
)
def test_an_emoji_gets_thanks_or_the_menu_never_a_misunderstanding(
    citizen: TelegramUser, send: Send, words: str
) -> None:
    send(citizen)
    replies = answers(citizen)
    assert words in said(replies)
    assert "non ho capito" not in said(replies)
    assert replies[-1].buttons


@pytest.mark.parametrize(
    "task",
    [
        pytest.param(task, marks=pytest.mark.xfail(reason=task.blocked_by, strict=True)) if task.blocked_by else task
        for task in TASKS
    ],
    ids=[task.name for task in TASKS],
)
def test_the_main_tasks_are_done_by_button_presses_only(citizen: TelegramUser, stack: Stack, task: Task) -> None:
    walked = walk(citizen, task, stack)
    assert len(walked.taps) == len(task.taps) <= MAX_TAPS
    # Every answer with buttons offers the menu and a person, except while a person answers:
    # there the one way back, by design, is "↩️ Torna all'assistente".
    assert not walked.missing_way_out()


def test_a_big_button_tapped_while_the_bot_waits_for_an_answer_does_what_it_says(
    citizen: TelegramUser, stack: Stack
) -> None:
    citizen.send("/start")
    answers(citizen)
    citizen.press("🔎 Stato pratica", keyboard=True)
    assert "numero di protocollo" in said(answers(citizen))
    citizen.press("💶 Tributi", keyboard=True)
    replies = answers(citizen)
    expected = [a["text"] for a in rasa_turn(stack, f"probe-{citizen.user_id}", "/tax_check") if a.get("text")]
    assert [r.content for r in replies if r.kind == "text"][: len(expected)] == expected


def test_a_big_button_during_a_chat_with_a_person_says_how_to_go_back(citizen: TelegramUser) -> None:
    citizen.send("/start")
    answers(citizen)
    citizen.press(PERSON, keyboard=True)
    assert "in coda" in said(answers(citizen))
    citizen.press("💶 Tributi", keyboard=True)
    reply = answers(citizen)[-1]
    assert "stai parlando con una persona" in reply.content
    assert reply.buttons == [BACK_TO_ASSISTANT]
    citizen.press(BACK_TO_ASSISTANT)
    answers(citizen)
    citizen.press("💶 Tributi", keyboard=True)
    assert "stai parlando con una persona" not in said(answers(citizen))
