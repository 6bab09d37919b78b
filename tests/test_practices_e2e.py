"""Pratiche over the local Bot API server: link, submit, track, answer the office, be told."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from PIL import Image

from localtelegram import BotApiDriver, BotMessage, TelegramUser
from tests.stack import Service, Stack, backoffice_api, mint_link_code
from tests.test_chat_e2e import answer, answers

MARIO = "RSSMRA50C12C552D"
GIULIA = "BNCGLI85L64C552A"
ANNA = "SPSNNA72S45C552P"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


def said(replies: list[BotMessage]) -> str:
    return "\n".join(r.content for r in replies)


def link(citizen: TelegramUser, stack: Stack, fiscal_code: str) -> None:
    citizen.send(f"/start {mint_link_code(stack, fiscal_code)}")
    assert "Fatto," in said(answers(citizen, 2))


def practices_of(stack: Stack, citizen: TelegramUser) -> list[dict[str, object]]:
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        response = api.get("/v1/practices")
        response.raise_for_status()
        return list(response.json()["practices"])


def transition(stack: Stack, protocol: str, to: str, note: str | None = None) -> None:
    year, number = protocol.split("/")
    with backoffice_api(stack) as api:
        response = api.post(
            f"/v1/staff/practices/{year}/{number}/transitions",
            json={"to": to, "note": note},
            headers={"X-Staff-User": "Ufficio tecnico"},
        )
        response.raise_for_status()


def test_a_deep_link_from_the_portal_links_the_chat(citizen: TelegramUser, stack: Stack) -> None:
    citizen.send(f"/start {mint_link_code(stack, MARIO)}")
    replies = answers(citizen, 2)
    assert "Fatto, Mario" in said(replies)
    assert MARIO not in said(replies)
    assert "📂 Le mie pratiche" in replies[-1].buttons


def test_a_typed_wrong_then_right_link_code(citizen: TelegramUser, stack: Stack) -> None:
    citizen.send("ho il codice per collegarmi")
    assert "codice di collegamento" in answer(citizen).content
    citizen.send("ABCD-EFGH")
    assert "non è valido" in said(answers(citizen))
    citizen.send(mint_link_code(stack, ANNA))
    assert "Fatto, Anna" in said(answers(citizen, 2))


def test_a_full_cila_by_typing(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, GIULIA)
    citizen.send("vorrei presentare una cila")
    assert "indirizzo" in answer(citizen).content.lower()
    for typed in (
        "Via Roma 45, Cerveteri",
        "foglio 12, particella 345, subalterno 6",
        "rifacimento del bagno e degli impianti",
        "Ing. Luca Verdi, albo di Roma n. 1234",
        "15/12/2026",
    ):
        citizen.send(typed)
        answers(citizen)
    citizen.send_document(PDF, "relazione.pdf", "application/pdf")
    optional = answers(citizen)[-1]
    assert "⏭️ Salta" in optional.buttons
    citizen.press("⏭️ Salta")
    summary = answers(citizen)[-1]
    assert "Ecco il riepilogo" in summary.content and "15/12/2026" in summary.content
    citizen.send("si confermo")
    receipt = said(answers(citizen, 2))
    assert "Numero di protocollo: 2026/" in receipt or "Numero di protocollo: 20" in receipt
    assert [p for p in practices_of(stack, citizen) if p["practice_type"]["code"] == "cila"]  # type: ignore[index]


def test_a_certificate_by_buttons_only_arrives_as_a_pdf(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, MARIO)
    citizen.press("📄 Nuova pratica")
    answers(citizen)
    citizen.press("Certificato di residenza")
    answers(citizen)
    citizen.press("👤 Sono io")
    answers(citizen)
    citizen.press("in carta libera (esente)")
    assert "Ecco il riepilogo" in answers(citizen)[-1].content
    citizen.press("✅ Confermo e invio")
    replies = answers(citizen, 3)
    documents = [r for r in replies if r.kind == "document"]
    assert documents and documents[0].download().startswith(b"%PDF")
    assert "Codice di verifica" in documents[0].content


def test_a_segnalazione_with_photo_and_location(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, ANNA)  # photos come from linked chats only
    citizen.send("c'è un lampione spento in via Fontana Morella")
    assert "posizione" in answer(citizen).content.lower()
    citizen.send_location(41.99561, 12.09862)
    answers(citizen)
    citizen.send("il lampione davanti al civico 12 è spento da una settimana")
    answers(citizen)
    citizen.send_photo(png())
    summary = answers(citizen)[-1]
    assert "📍 41.99561, 12.09862" in summary.content and "📎" in summary.content
    # Any field can be corrected from the summary, then the summary comes back.
    citizen.press(next(b for b in summary.buttons if b.startswith("✏️ Descrizione")))
    answers(citizen)
    citizen.send("lampione spento e palo piegato dopo un incidente")
    corrected = answers(citizen)[-1]
    assert "palo piegato" in corrected.content and "📍 41.99561" in corrected.content
    citizen.press("✅ Confermo e invio")
    assert "Numero di protocollo" in said(answers(citizen, 2))


def test_a_chat_not_linked_sends_no_photo_but_its_segnalazione_goes_without(
    citizen: TelegramUser, stack: Stack
) -> None:
    citizen.send("c'è un lampione spento in via Fontana Morella")
    answers(citizen)
    citizen.send_location(41.99561, 12.09862)
    answers(citizen)
    citizen.send("il lampione davanti al civico 12 è spento da una settimana")
    asked = answers(citizen)[-1]
    assert "⏭️ Salta" in asked.buttons

    citizen.send_photo(png())

    refused = answers(citizen)
    assert "chat collegata" in said(refused) and "Salta" in said(refused)
    assert "🔗 Ho il codice" in refused[-1].buttons
    citizen.press("⏭️ Salta", message_id=asked.message_id)
    summary = answers(citizen)[-1]
    assert "Confermi l'invio?" in summary.content
    citizen.press("✅ Confermo e invio")
    assert "Numero di protocollo" in said(answers(citizen, 2))


def test_tracking_by_number_by_list_and_someone_elses_refused(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, MARIO)
    citizen.send("a che punto è la mia pratica 2026/000118?")
    status = said(answers(citizen))
    assert "Pratica 2026/000118" in status and "Stato:" in status and "Storia:" in status
    citizen.send("le mie pratiche")
    listing = answers(citizen)[-1]
    assert "🔎 2026/000118" in listing.buttons
    citizen.send("a che punto è la pratica 2026/000120")  # Giulia's
    refused = said(answers(citizen))
    assert "Non trovo una tua pratica con il numero 2026/000120" in refused
    assert "Via Roma" not in refused


def test_a_chat_not_linked_is_told_how_to_link_never_the_status(citizen: TelegramUser, stack: Stack) -> None:
    # 2026/000123 is Mario's segnalazione, in esame: a sequential number anyone can try.
    citizen.send("a che punto è la pratica 2026/000123")
    refused = answers(citizen)
    text = said(refused)
    assert "collega questa chat" in text and "SPID o CIE" in text
    assert "🔗 Ho il codice" in refused[-1].buttons
    for status_word in ("Stato:", "in esame", "Storia:", "Lampione", "illuminazione"):
        assert status_word not in text


def submit_for(stack: Stack, citizen: TelegramUser) -> str:
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        response = api.post(
            "/v1/practices",
            json={
                "practice_type": "occupazione_suolo",
                "data": {
                    "purpose": "trasloco",
                    "address": "Via Settevene Palo 3",
                    "start_date": "2026-12-10",
                    "end_date": "2026-12-11",
                    "area_m2": "20",
                },
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        response.raise_for_status()
        return str(response.json()["protocol_number"])


def test_the_office_asks_a_document_and_the_citizen_sends_it_in_the_chat(
    citizen: TelegramUser, stack: Stack
) -> None:
    link(citizen, stack, ANNA)
    protocol = submit_for(stack, citizen)
    transition(stack, protocol, "in_istruttoria")
    assert f"pratica {protocol}" in answer(citizen).content
    transition(stack, protocol, "integrazione_richiesta", "Manca la planimetria dell'area")
    told = answer(citizen)
    assert "Manca la planimetria" in told.content
    assert "🔎 Vedi la pratica" in told.buttons
    citizen.send_document(PDF, "planimetria.pdf", "application/pdf")
    reply = said(answers(citizen))
    assert f"ho aggiunto il documento alla pratica {protocol}" in reply
    assert "in esame" in reply


def test_a_change_made_while_the_bot_was_stopped_is_told_once(
    citizen: TelegramUser, stack: Stack, bot: Service
) -> None:
    link(citizen, stack, GIULIA)
    protocol = submit_for(stack, citizen)
    bot.stop()
    try:
        transition(stack, protocol, "in_istruttoria")
        transition(stack, protocol, "accolta")
    finally:
        bot.start()
    told = answers(citizen, 2, timeout=40)
    assert [r.content.count(protocol) > 0 for r in told] == [True, True]
    assert "in esame" in told[0].content and "accolta" in told[1].content
    citizen.expect_silence(within=4)


def test_a_bot_that_lost_its_disk_tells_nothing_old_again(
    citizen: TelegramUser, stack: Stack, bot: Service, tmp_path: Path
) -> None:
    link(citizen, stack, GIULIA)
    protocol = submit_for(stack, citizen)
    transition(stack, protocol, "in_istruttoria")
    assert protocol in answers(citizen, 1, timeout=40)[0].content
    own_disk = bot.env["BOT_STATE_DIR"]
    bot.stop()
    bot.env["BOT_STATE_DIR"] = str(tmp_path)  # a new, empty volume
    try:
        bot.start()
        citizen.expect_silence(within=6)
    finally:
        bot.stop()
        bot.env["BOT_STATE_DIR"] = own_disk
        bot.start()


def test_a_submission_retried_after_the_back_office_was_down_makes_one_pratica(
    citizen: TelegramUser, stack: Stack
) -> None:
    link(citizen, stack, ANNA)
    before = len(practices_of(stack, citizen))
    citizen.send("mi serve lo stato di famiglia")
    answers(citizen)
    citizen.press("👤 Sono io")
    answers(citizen)
    citizen.press("in bollo")
    answers(citizen)
    stack.backoffice.stop()
    try:
        citizen.press("✅ Confermo e invio")
        kept = answers(citizen)[-1]
        assert "Ho tenuto tutti i dati" in kept.content
    finally:
        stack.backoffice.start()
    citizen.press("🔁 Riprova l'invio")
    assert "Numero di protocollo" in said(answers(citizen, 2))
    assert len(practices_of(stack, citizen)) == before + 1


def test_a_wrong_fiscal_code_is_answered_kindly_and_asked_again(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, MARIO)
    citizen.send("vorrei un certificato di residenza")
    answers(citizen)
    citizen.send("RSSMRA50C12C552X")
    reply = said(answers(citizen))
    assert "non sembra giusto" in reply
    citizen.send("rssmra50c12c552d")
    assert "in bollo" in answers(citizen)[-1].buttons


@pytest.mark.parametrize(
    ("content", "filename", "mime", "expected"),
    [
        (b"PK\x03\x04 a word file", "domanda.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "solo PDF"),
        (b"not really a pdf", "finto.pdf", "application/pdf", "solo PDF"),
        (b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024), "enorme.pdf", "application/pdf", "troppo grande"),
    ],
)
def test_a_wrong_or_oversized_file_is_answered_kindly(
    citizen: TelegramUser, stack: Stack, tg: BotApiDriver, content: bytes, filename: str, mime: str, expected: str
) -> None:
    link(citizen, stack, GIULIA)
    citizen.send_document(content, filename, mime)
    assert expected in answer(citizen).content


def test_no_codice_fiscale_name_or_message_text_reaches_the_logs(stack: Stack, bot: Service) -> None:
    # Runs after the conversations above, which typed all of these.
    secrets = [MARIO, MARIO.lower(), GIULIA, ANNA, "Mario", "Giulia", "lampione spento", "Via Roma 45"]
    for service in (stack.backoffice, stack.actions, stack.rasa, bot):
        log = service.log_path.read_text(errors="replace")
        leaked = [s for s in secrets if s in log]
        assert not leaked, f"{service.name} logged {leaked}"
