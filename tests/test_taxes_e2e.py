"""Tributi over the local Bot API server: check, pay with the pagoPA QR code, be told, reminders."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import httpx
import zxingcpp
from PIL import Image

from localtelegram import BotApiDriver, BotMessage, TelegramUser
from tests.stack import Stack, backoffice_api
from tests.test_chat_e2e import answers
from tests.test_practices_e2e import link, said

ANNA = "SPSNNA72S45C552P"
GIULIA = "BNCGLI85L64C552A"
MARIO = "RSSMRA50C12C552D"
PAYLOAD = re.compile(r"PAGOPA\|002\|(\d{18})\|(\d{11})\|(\d+)")


def decode_qr(photo: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(photo)))
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return str(found[0].text)


def press_and_wait(citizen: TelegramUser, replies: list[BotMessage], title_start: str) -> list[BotMessage]:
    for reply in reversed(replies):
        if reply.keyboard_type != "inline":
            continue
        for title in reply.buttons:
            if title.startswith(title_start):
                citizen.press(title, message_id=reply.message_id)
                return answers(citizen)
    raise AssertionError(f"no button starting {title_start!r} in {[str(r) for r in replies]}")


def taxes_of(stack: Stack, citizen: TelegramUser) -> list[dict[str, object]]:
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        response = api.get("/v1/taxes")
        response.raise_for_status()
        return list(response.json()["taxes"])


def test_an_unlinked_citizen_is_asked_to_link_first(citizen: TelegramUser) -> None:
    citizen.send("ho tasse da pagare?")
    replies = answers(citizen)
    assert "devo sapere chi sei" in said(replies)
    assert "🔗 Ho il codice" in replies[-1].buttons and "🙋 Parla con una persona" in replies[-1].buttons


def test_check_pay_with_the_qr_code_and_be_told_with_the_receipt(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, ANNA)
    citizen.send("quanto devo pagare?")
    summary = answers(citizen)
    text = said(summary)
    assert "🔴" in text and "scaduto" in text, "the overdue TARI instalment is marked"
    assert "98,75\u00a0€" in text

    notice = press_and_wait(citizen, summary, "💳 Paga TARI")
    photo = next(m for m in notice if m.kind == "photo")
    number, payee, cents = PAYLOAD.fullmatch(decode_qr(photo.download())).groups()  # type: ignore[union-attr]
    assert number.startswith("3") and cents == "9875"
    grouped = " ".join(number[i : i + 4] for i in range(0, 18, 4))
    assert f"Codice avviso: {grouped}" in photo.content
    assert "Importo: 98,75\u00a0€" in photo.content and payee in photo.content
    checkout = re.search(r"https?://\S+", photo.content)
    assert checkout, "the caption carries the checkout link"

    page = httpx.get(checkout.group(0), timeout=10)
    assert page.status_code == 200 and "98,75" in page.text
    paid = httpx.post(checkout.group(0), timeout=10)
    assert paid.status_code == 200 and "Pagamento riuscito" in paid.text

    told = answers(citizen, 2, timeout=30)
    assert "✅ Pagamento ricevuto" in said(told)
    receipt = next(m for m in told if m.kind == "document")
    assert receipt.download()[:4] in (b"%PDF", b"<!DO", b"<htm")

    again = httpx.post(checkout.group(0), timeout=10)
    assert "già" in again.text.lower(), "a paid notice cannot be paid twice"
    citizen.expect_silence(within=3.0)

    citizen.send(f"voglio pagare l'avviso {grouped}")
    assert "già pagato" in said(answers(citizen))


def test_a_paid_position_is_not_offered_for_payment(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, MARIO)
    citizen.send("quanto devo di tari?")
    summary = answers(citizen)
    assert "Già pagati" in said(summary)
    paid = [t for t in taxes_of(stack, citizen) if t["status"] == "pagato"]
    assert paid
    citizen.send(f"voglio pagare l'avviso {paid[0]['notice_number']}")
    assert "già pagato" in said(answers(citizen))


def test_reminders_are_sent_once_and_not_after_opting_out(tg: BotApiDriver, stack: Stack, citizen: TelegramUser) -> None:
    link(citizen, stack, GIULIA)
    other = tg.user(citizen.user_id + 500_000, first_name="Mario")
    link(other, stack, MARIO)
    other.send("non voglio più i promemoria delle scadenze")
    assert "non ti manderò più promemoria" in said(answers(other))

    unpaid = [t for t in taxes_of(stack, citizen) if t["status"] == "da_pagare"]
    first_due = min(date.fromisoformat(str(t["due_date"])) for t in unpaid)
    # Telegram says "too many requests, retry after 1 s" to the first reminder: it still arrives.
    tg.throttle(1, retry_after=1, methods=["sendMessage"])
    with backoffice_api(stack) as api:
        queued = api.post("/v1/jobs/payment-reminders", json={"today": (first_due - timedelta(days=3)).isoformat()})
        queued.raise_for_status()
        assert queued.json()["queued"] >= 1

    reminders = [m for m in answers(citizen, 1, timeout=30) if "🔔 Promemoria" in m.content]
    assert reminders and "scade" in reminders[0].content
    assert "🔕 Niente promemoria" in reminders[0].buttons
    other.expect_silence(within=3.0)

    with backoffice_api(stack) as api:
        again = api.post("/v1/jobs/payment-reminders", json={"today": (first_due - timedelta(days=3)).isoformat()})
        again.raise_for_status()
        assert again.json()["queued"] == 0
    citizen.expect_silence(within=3.0)
