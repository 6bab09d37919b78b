"""The staff group's own tools in a ticket's topic, through the real bot: `//` internal notes
that never reach the citizen, and canned replies (`/risposte`, `/risposta N`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot import canned
from bot.handoff_store import HandoffStore
from localtelegram import TelegramGroup, TelegramUser
from tests.stack import Service
from tests.test_chat_e2e import answers
from tests.test_handoff_e2e import clerk, in_topic, newest_topic, said, staff  # noqa: F401 - fixtures


def transcript(bot: Service, thread: int) -> list[tuple[str, str]]:
    with sqlite3.connect(Path(bot.env["BOT_STATE_DIR"]) / "handoff.db", timeout=10) as db:
        rows = db.execute(
            "SELECT author, text FROM handoff_transcript WHERE ticket_id = "
            "(SELECT id FROM handoff_tickets WHERE thread_id = ?) ORDER BY id",
            (thread,),
        ).fetchall()
    return [(str(author), str(text)) for author, text in rows]


def test_a_note_stays_among_staff_and_a_canned_reply_reaches_the_citizen(
    citizen: TelegramUser, clerk: TelegramUser, staff: TelegramGroup, bot: Service  # noqa: F811
) -> None:
    citizen.send("/operatore")
    answers(citizen)
    thread, _ = newest_topic(staff)
    in_topic(staff, thread)
    desk = clerk.in_chat(staff, thread)

    desk.send("// ha già chiamato ieri in ufficio")
    assert "🔒 Nota interna" in in_topic(staff, thread)[0].content
    citizen.expect_silence(within=3)
    assert ("nota interna", "ha già chiamato ieri in ufficio") in transcript(bot, thread)

    desk.send("/risposte")
    listing = in_topic(staff, thread)[0].content
    assert "1. Saluto" in listing and "/risposta" in listing
    desk.send("/risposta 2")
    told = said(answers(citizen, 2))  # taken in charge, then the reply
    assert "Lucia del Comune ha preso la tua richiesta" in told
    assert "👤 Lucia, Comune di Cerveteri:\nGrazie, sto verificando." in told
    confirmations = said(in_topic(staff, thread, 2))
    assert "Inviata al cittadino la risposta «Un momento»." in confirmations
    assert ("operatore", canned.load()[1].text) in transcript(bot, thread)

    desk.send("/risposta 99")
    assert "Non c'è una risposta con questo numero" in in_topic(staff, thread)[0].content
    citizen.expect_silence(within=2)


async def test_the_citizens_export_leaves_the_staff_notes_out(tmp_path: Path) -> None:
    store = await HandoffStore.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    try:
        ticket = await store.create(42, "Tributi")
        await store.add_line(ticket.id, "cittadino", "quanto pago?")
        await store.add_line(ticket.id, "nota interna", "ha già chiamato ieri")
        await store.add_line(ticket.id, "operatore", "Le rispondo subito.")
        (record,) = await store.records_of(42)
        assert [(author, text) for _, author, text in record.transcript] == [
            ("cittadino", "quanto pago?"), ("operatore", "Le rispondo subito."),
        ]
        assert ("nota interna", "ha già chiamato ieri") in await store.transcript(ticket.id)
    finally:
        await store.close()


def test_the_shipped_canned_replies_load() -> None:
    replies = canned.load()
    assert 5 <= len(replies) <= canned.MAX_REPLIES
    assert all(reply.title and reply.text for reply in replies)
    assert canned.pick(replies, "1") == replies[0] and canned.pick(replies, "0") is None
    assert canned.pick(replies, "x") is None and canned.pick(replies, str(len(replies) + 1)) is None


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("titolo: x\n", "expected a list"),
        ("- titolo: Saluto\n", "needs exactly 'titolo' and 'testo'"),
        ("- titolo: Saluto\n  testo: ''\n", "empty title or text"),
        (f"- titolo: Lunga\n  testo: '{'a' * 1001}'\n", "longer than 1000"),
        ("- [unclosed\n", "cannot be read"),
    ],
)
def test_a_broken_file_of_canned_replies_stops_the_start_with_a_clear_reason(
    tmp_path: Path, content: str, says: str
) -> None:
    path = tmp_path / "canned.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(canned.CannedRepliesError, match=says):
        canned.load(path)
