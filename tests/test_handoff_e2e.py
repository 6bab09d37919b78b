"""Parla con una persona: a citizen and a clerk in the staff forum group, through the real bot."""

from __future__ import annotations

import io
import itertools
import re
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image

from localtelegram import BotApiDriver, BotMessage, TelegramGroup, TelegramUser
from tests.conftest import STAFF_CHAT_ID
from tests.stack import Service
from tests.test_chat_e2e import answers

_staff_ids = itertools.count(990_101)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture()
def staff(tg: BotApiDriver) -> TelegramGroup:
    return TelegramGroup(tg, STAFF_CHAT_ID, "Staff URP Cerveteri")


@pytest.fixture()
def clerk(tg: BotApiDriver, staff: TelegramGroup, bot: Service) -> TelegramUser:
    return staff.add_member(tg.user(next(_staff_ids), first_name="Lucia"), "member")


def said(replies: list[BotMessage]) -> str:
    return "\n".join(r.content for r in replies)


def newest_topic(staff: TelegramGroup) -> tuple[int, str]:
    topic = max(staff.topics(), key=lambda t: int(t["message_thread_id"]))
    return int(topic["message_thread_id"]), str(topic["name"])


def in_topic(staff: TelegramGroup, thread: int, min_count: int = 1) -> list[BotMessage]:
    """What the bot posted in the ticket's topic next (the topic's own creation left out)."""
    got: list[BotMessage] = []
    while len(got) < min_count:
        batch = staff.wait_replies(1, timeout=30, thread_id=thread, settle=0.4)
        got += [m for m in batch if m.kind in ("text", "photo", "document", "voice", "location")]
    return got


def transcript_lines(bot: Service, ticket_id: int, closed_long_ago: bool = False) -> int:
    """How many transcript lines of the ticket the bot keeps; optionally backdate its closing."""
    with sqlite3.connect(Path(bot.env["BOT_STATE_DIR"]) / "handoff.db", timeout=10) as db:
        if closed_long_ago:
            db.execute("UPDATE handoff_tickets SET closed_at = '2020-01-01 00:00:00.000000' WHERE id = ?", (ticket_id,))
        (count,) = db.execute("SELECT count(*) FROM handoff_transcript WHERE ticket_id = ?", (ticket_id,)).fetchone()
    return int(count)


def queue_number(text: str) -> int:
    match = re.search(r"numero (\d+) in coda", text)
    assert match, text
    return int(match.group(1))


def test_a_handoff_by_button_relays_both_ways_and_closes_with_a_rating(
    citizen: TelegramUser, clerk: TelegramUser, staff: TelegramGroup
) -> None:
    citizen.send("ho un problema con la tari")
    answers(citizen)
    citizen.press("🙋 Parla con una persona")
    waiting = said(answers(citizen))
    assert "in coda" in waiting
    thread, name = newest_topic(staff)
    assert re.fullmatch(r"#\d+ – Tributi", name), name
    intro = in_topic(staff, thread)[0]
    assert "Nuova richiesta" in intro.content and "cittadino: ho un problema con la tari" in intro.content
    assert intro.buttons == ["✋ Prendo io", "✅ Chiudi"]

    desk = clerk.in_chat(staff, thread)
    desk.press("✋ Prendo io")
    assert "Lucia del Comune ha preso la tua richiesta" in said(answers(citizen))
    in_topic(staff, thread)

    citizen.send("quanto devo pagare quest'anno?")
    citizen.send_photo(png())
    citizen.send_document(PDF, "avviso.pdf", "application/pdf")
    relayed = in_topic(staff, thread, 3)
    assert [m.kind for m in relayed] == ["text", "photo", "document"]
    assert relayed[0].content == "quanto devo pagare quest'anno?"
    assert relayed[2].download() == PDF

    desk.send("Buongiorno, la prima rata TARI scade il 16 dicembre.")
    told = said(answers(citizen))
    assert "👤 Lucia, Comune di Cerveteri:" in told and "16 dicembre" in told
    desk.send_document(PDF, "modulo.pdf", "application/pdf")
    from_staff = answers(citizen, 2)
    assert from_staff[-1].kind == "document" and from_staff[-1].download() == PDF

    desk.press("✅ Chiudi")
    closing = answers(citizen)[-1]
    assert "La conversazione con il Comune è chiusa" in closing.content
    assert closing.buttons == ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"]
    citizen.press("⭐⭐⭐⭐⭐")
    assert "Grazie per il tuo voto" in said(answers(citizen, 2))
    # Back to the assistant: the next message is Rasa's again, and a new request is a new ticket.
    citizen.send("buongiorno")
    assert "assistente automatico" in said(answers(citizen))
    citizen.send("voglio parlare con un operatore")
    assert "in coda" in said(answers(citizen))
    assert newest_topic(staff)[0] != thread


def test_a_handoff_after_two_misunderstandings(citizen: TelegramUser, staff: TelegramGroup) -> None:
    citizen.send("sdfkj qwpoe zzxq")
    answers(citizen)
    citizen.send("blorf wuzzle kraa")
    assert "Vuoi parlare con una persona" in said(answers(citizen))
    citizen.press("🙋 Sì, parla con una persona")
    assert "in coda" in said(answers(citizen))


def test_the_queue_position_and_going_back_to_the_assistant_meanwhile(
    tg: BotApiDriver, citizen: TelegramUser, clerk: TelegramUser, staff: TelegramGroup
) -> None:
    citizen.send("/operatore")
    first = queue_number(said(answers(citizen)))
    thread, _ = newest_topic(staff)
    other = tg.user(citizen.user_id + 50_000, first_name="Piero")
    other.send("/operatore")
    assert queue_number(said(answers(other))) == first + 1
    citizen.press("↩️ Torna all'assistente")
    back = said(answers(citizen, 2))
    assert "resta in coda" in back and "Cosa vuoi fare?" in back
    citizen.send("grazie")
    assert "Di niente" in said(answers(citizen)), "meanwhile the assistant answers again"
    clerk.in_chat(staff, thread).send("Eccomi, come posso aiutarla?")
    assert "Eccomi" in said(answers(citizen, 2))


def test_a_non_staff_user_pressing_a_staff_button_does_nothing(
    tg: BotApiDriver, citizen: TelegramUser, staff: TelegramGroup
) -> None:
    citizen.send("/operatore")
    answers(citizen)
    thread, _ = newest_topic(staff)
    in_topic(staff, thread)
    intruder = staff.add_member(tg.user(next(_staff_ids), first_name="Intruso"), "restricted")
    intruder.in_chat(staff, thread).press("✋ Prendo io")
    alert = intruder.wait_callback_answer()
    assert "Solo il personale" in (alert.text or "")
    citizen.expect_silence(within=2)


def test_a_bot_restart_in_the_middle_of_a_handoff_loses_nothing(
    citizen: TelegramUser, clerk: TelegramUser, staff: TelegramGroup, bot: Service
) -> None:
    citizen.send("/operatore")
    answers(citizen)
    thread, _ = newest_topic(staff)
    in_topic(staff, thread)
    desk = clerk.in_chat(staff, thread)
    desk.press("✋ Prendo io")
    answers(citizen)
    bot.stop()
    bot.start()
    citizen.send("ci siete ancora?")
    relayed = in_topic(staff, thread, 2)
    assert "ci siete ancora?" in said(relayed)
    desk.send("Sì, sono qui.")
    assert "Sì, sono qui." in said(answers(citizen))
    desk.send("/chiudi Risolto: la rata è già pagata")
    closing = said(answers(citizen))
    assert "Nota dell'operatore: Risolto: la rata è già pagata" in closing


def test_a_staff_topic_that_cannot_be_opened_gives_the_switchboard_and_no_silent_relay(
    tg: BotApiDriver, citizen: TelegramUser, staff: TelegramGroup
) -> None:
    topics = len(staff.topics())
    tg.fail("createForumTopic", description="Bad Request: not enough rights to manage topics")
    citizen.send("/operatore")
    told = said(answers(citizen))
    assert "non riesco a passarti a una persona del Comune" in told
    assert "06 896301 (lunedì–venerdì 9–12:30)" in told
    assert len(staff.topics()) == topics
    # The ticket is closed: what the citizen writes next is the assistant's again, not lost.
    citizen.send("grazie")
    assert "Di niente" in said(answers(citizen))


def test_the_running_bot_purges_transcripts_whose_time_is_up(
    citizen: TelegramUser, clerk: TelegramUser, staff: TelegramGroup, bot: Service
) -> None:
    citizen.send("/operatore")
    answers(citizen)
    thread, name = newest_topic(staff)
    ticket_id = int(name.split()[0].lstrip("#"))
    in_topic(staff, thread)
    clerk.in_chat(staff, thread).send("/chiudi Fatto")
    answers(citizen)
    assert transcript_lines(bot, ticket_id) >= 2
    # Closed longer ago than HANDOFF_RETENTION_DAYS: the job (every second here) deletes it,
    # with no restart of the bot.
    transcript_lines(bot, ticket_id, closed_long_ago=True)
    deadline = time.monotonic() + 15
    while transcript_lines(bot, ticket_id) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert transcript_lines(bot, ticket_id) == 0


def test_the_staff_read_the_recent_lines_without_codice_fiscale_or_link_code(
    citizen: TelegramUser, staff: TelegramGroup
) -> None:
    citizen.send("il mio codice fiscale è rssmra80a01h501u")
    answers(citizen)
    citizen.send("AWLP-CJ4P")
    answers(citizen)
    citizen.send("/operatore")
    answers(citizen)
    thread, _ = newest_topic(staff)
    intro = in_topic(staff, thread)[0].content
    assert "cittadino: il mio codice fiscale è RSS***********1U" in intro
    assert "cittadino: ****-****" in intro
    assert "rssmra80a01h501u" not in intro.lower() and "AWLP" not in intro
