"""I miei dati over the local Bot API server: the copy as a PDF and a JSON, and forgetting.

The real stack: the bot reads Rasa's tracker store and its own handoff tickets, the back
office its records; erasing after the confirming turn leaves nothing of the conversation.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from localtelegram import BotApiDriver, BotMessage, TelegramGroup, TelegramUser
from tests.conftest import STAFF_CHAT_ID
from tests.pdftext import pdf_text
from tests.stack import Service, Stack, backoffice_api, mint_link_code, wait_until
from tests.test_chat_e2e import answers

MARIO, GIULIA = "RSSMRA50C12C552D", "BNCGLI85L64C552A"
MARIOS_PRACTICE, GIULIAS_PRACTICE = "2026/000118", "2026/000120"


def said(replies: list[BotMessage]) -> str:
    return "\n".join(r.content for r in replies)


def link(citizen: TelegramUser, stack: Stack, fiscal_code: str) -> None:
    citizen.send(f"/start {mint_link_code(stack, fiscal_code)}")
    assert "Fatto," in said(answers(citizen))


def export(citizen: TelegramUser, ask: str = "scarica i miei dati") -> tuple[str, dict[str, Any], BotMessage]:
    """Ask for the copy; the PDF's text, the JSON, and the message that comes after them."""
    citizen.send(ask)
    replies = answers(citizen, 3)
    documents = [r for r in replies if r.kind == "document"]
    assert [d.file_name.rsplit(".", 1)[-1] for d in documents if d.file_name] == ["pdf", "json"], said(replies)
    pdf, data = documents[0].download(), json.loads(documents[1].download())
    assert documents[0].mime_type in (None, "application/pdf")
    return pdf_text(pdf), data, replies[-1]


def erase(citizen: TelegramUser, ask: str = "cancella i miei dati") -> str:
    """Ask to erase, read the question, press ✅ Sì, cancella; what the bot says then."""
    citizen.send(ask)
    question = answers(citizen)[-1]
    assert "Le pratiche, i pagamenti e le prenotazioni restano all'ufficio" in question.content
    assert question.buttons[:2] == ["✅ Sì, cancella", "❌ No"]
    citizen.press("✅ Sì, cancella")
    return said(answers(citizen))


def conversation(data: dict[str, Any]) -> str:
    return "\n".join(line["text"] for line in data["conversation"])


def test_the_menu_entry_offers_the_copy_and_the_erasure(citizen: TelegramUser) -> None:
    citizen.send("/start")
    answers(citizen)
    citizen.press("🔒 Dati personali", keyboard=True)
    offer = answers(citizen)[-1]
    assert "I tuoi dati" in offer.content and "le pratiche restano all'ufficio" in offer.content
    assert offer.buttons == ["📥 Scarica", "🗑️ Cancella", "🏠 Menu", "🙋 Parla con una persona"]


def test_the_copy_holds_the_pratica_the_taxes_and_the_conversation(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, MARIO)
    citizen.send("a che punto è la pratica 2026/000118?")
    answers(citizen)
    citizen.send("i miei dati")
    offer = answers(citizen)[-1]
    assert "🔓 Scollega questa chat" in offer.buttons
    citizen.press("📥 Scarica")
    replies = answers(citizen, 3)
    documents = [r for r in replies if r.kind == "document"]
    assert len(documents) == 2
    text, data = pdf_text(documents[0].download()), json.loads(documents[1].download())

    assert MARIOS_PRACTICE in text and "Certificato di residenza" in text and "Mario Rossi" in text
    assert "RSS***50C12***D" in text and MARIO not in text, "the codice fiscale stays masked"
    assert "€" in text and "Tributi e pagamenti" in text, "amounts print with the euro sign"
    assert "a che punto è la pratica 2026/000118?" in text, "the conversation, accents and all"
    assert MARIOS_PRACTICE in [p["protocol_number"] for p in data["practices"]]
    assert data["citizen"]["given_name"] == "Mario" and data["telegram_user_id"] == citizen.user_id
    assert data["tax_positions"] and data["retention"]["conversation_days"] == 90
    assert "a che punto è la pratica 2026/000118?" in conversation(data)
    assert "Pratica 2026/000118" in conversation(data), "the assistant's answers too"
    assert MARIO not in json.dumps(data)
    assert "🗑️ Cancella" in replies[-1].buttons and "🏠 Menu" in replies[-1].buttons


def test_after_erasing_the_copy_shows_nothing_of_the_conversation_and_others_are_unaffected(
    tg: BotApiDriver, citizen: TelegramUser, stack: Stack
) -> None:
    link(citizen, stack, MARIO)
    giulia = tg.user(citizen.user_id + 60_000, first_name="Giulia")
    link(giulia, stack, GIULIA)
    giulia.send("quando scade la TARI?")
    answers(giulia)
    citizen.send("ho perso il gatto Romeo, orari dell'anagrafe?")
    answers(citizen)

    done = erase(citizen, "dimenticami")

    assert "ho cancellato la nostra conversazione" in done
    assert "Ho scollegato questa chat" in done and "legge" in done and "Le pratiche restano all'ufficio" in done
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        assert api.get("/v1/me").status_code == 403
    text, data, _ = export(citizen)
    assert "gatto Romeo" not in conversation(data) and "gatto Romeo" not in text
    assert "dimenticami" not in conversation(data), "nor the turn that asked for it"
    assert data["citizen"] is None and data["practices"] == [] and MARIOS_PRACTICE not in text
    # Giulia's chat is still hers: linked, with her pratica and her conversation.
    giulias_text, giulias, _ = export(giulia)
    assert giulias["citizen"]["given_name"] == "Giulia" and GIULIAS_PRACTICE in giulias_text
    assert "quando scade la TARI?" in conversation(giulias)
    # Mario's pratica stays with the office: linked again, it is there.
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        assert api.post("/v1/channel-links", json={"code": mint_link_code(stack, MARIO)}).status_code == 201
        assert api.get(f"/v1/practices/{MARIOS_PRACTICE}").json()["status"] == "accolta"


def test_a_chat_linked_to_nobody_gets_its_conversation_and_tickets_then_forgets_them(
    tg: BotApiDriver, citizen: TelegramUser, bot: Service
) -> None:
    staff = TelegramGroup(tg, STAFF_CHAT_ID, "Staff URP Cerveteri")
    citizen.send("a che ora apre l'anagrafe?")
    answers(citizen)
    citizen.send("/operatore")
    assert "coda" in said(answers(citizen))
    thread = max(int(t["message_thread_id"]) for t in staff.topics())
    citizen.press("↩️ Torna all'assistente")
    answers(citizen, 2)

    text, data, _ = export(citizen, "voglio una copia dei miei dati")
    assert "non è collegata a un profilo" in text and data["citizen"] is None
    assert "a che ora apre l'anagrafe?" in conversation(data) and "a che ora apre l'anagrafe?" in text
    assert [t["ticket"] for t in data["handoff_tickets"]] and "Richiesta #" in text
    assert data["handoff_tickets"][0]["transcript"], "the ticket's transcript comes along"

    done = erase(citizen)
    assert "ho cancellato la nostra conversazione e le richieste a una persona" in done
    assert "scollegato" not in done, "there was no link to undo"
    assert thread not in [int(t["message_thread_id"]) for t in staff.topics()], "its topic left the staff group"
    text, data, _ = export(citizen)
    assert data["handoff_tickets"] == [] and "apre l'anagrafe" not in conversation(data)
    assert "apre l'anagrafe" not in text


def test_a_no_erases_nothing(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, GIULIA)
    citizen.send("cancella i miei dati")
    answers(citizen)
    citizen.press("❌ No")
    assert "D'accordo" in said(answers(citizen))
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        assert api.get("/v1/me").status_code == 200
    _, data, _ = export(citizen)
    assert "cancella i miei dati" in conversation(data)


def test_with_the_back_office_down_the_citizen_is_told_and_can_try_again(citizen: TelegramUser, stack: Stack) -> None:
    citizen.send("buongiorno")
    answers(citizen)
    stack.backoffice.stop()
    try:
        citizen.send("scarica i miei dati")
        told = answers(citizen)
        assert "non riesco a preparare i tuoi dati" in said(told) and not [r for r in told if r.kind == "document"]
        citizen.send("cancella i miei dati")
        answers(citizen)
        citizen.press("✅ Sì, cancella")
        half = answers(citizen)[-1]
        assert "Ho cancellato la nostra conversazione, ma il sistema del Comune non risponde" in half.content
        assert "🗑️ Cancella" in half.buttons, "one tap tries again"
    finally:
        stack.backoffice.start()
    citizen.press("🗑️ Cancella")
    answers(citizen)
    citizen.press("✅ Sì, cancella")
    assert "ho cancellato la nostra conversazione" in said(answers(citizen))


def test_erasing_forgets_the_display_mode_the_bot_keeps(citizen: TelegramUser, bot: Service) -> None:
    """The chosen display mode is a row about this Telegram user in the bot's own database."""
    state = Path(bot.env["BOT_STATE_DIR"]) / "handoff.db"

    def rows() -> int:
        with closing(sqlite3.connect(state)) as db:
            (count,) = db.execute("SELECT count(*) FROM bot_user_data WHERE user_id = ?", (citizen.user_id,)).fetchone()
        return int(count)

    citizen.send("modalità compatta")
    answers(citizen)
    wait_until(lambda: rows() == 1, 10, "the display mode saved")

    assert "ho cancellato la nostra conversazione" in erase(citizen)
    wait_until(lambda: rows() == 0, 10, "the display mode forgotten")
