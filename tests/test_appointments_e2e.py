"""Sportello over the local Bot API server: book by buttons or typing, move, cancel, be reminded."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from localtelegram import BotMessage, TelegramUser
from sportello.formatting import long_date
from tests.stack import Stack, backoffice_api
from tests.test_chat_e2e import answers
from tests.test_practices_e2e import link, said
from tests.test_taxes_e2e import decode_qr, press_and_wait

ROME = ZoneInfo("Europe/Rome")
MARIO = "RSSMRA50C12C552D"
GIULIA = "BNCGLI85L64C552A"
ANNA = "SPSNNA72S45C552P"
ESCAPES = ("🏠 Menu", "🙋 Parla con una persona")


def appointments_of(stack: Stack, citizen: TelegramUser) -> list[dict[str, object]]:
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        response = api.get("/v1/appointments")
        response.raise_for_status()
        return list(response.json()["appointments"])


def book_cie_by_buttons(citizen: TelegramUser) -> list[BotMessage]:
    """Menu → Prenota → Carta d'identità → day → time → yes: the ticket."""
    citizen.send("/menu")
    answers(citizen)
    citizen.press("📅 Prenota", keyboard=True)  # a big button under the chat
    offices = answers(citizen)
    assert "Per quale ufficio" in said(offices)
    days = press_and_wait(citizen, offices, "🏛️ Carta")
    text = said(days)
    assert "fototessera" in text and "tessera sanitaria" in text and "Costo:" in text
    assert all(escape in days[-1].buttons for escape in ESCAPES) and "⬅️ Indietro" in days[-1].buttons
    times = press_and_wait(citizen, days, "📅 ")
    assert all(escape in times[-1].buttons for escape in ESCAPES) and "⬅️ Indietro" in times[-1].buttons
    summary = press_and_wait(citizen, times, "🕘 ")
    assert "Confermi?" in said(summary) and "⬅️ Indietro" in summary[-1].buttons
    return press_and_wait(citizen, summary, "✅ Sì")


def test_a_cie_booking_by_buttons_only_gives_a_ticket_with_a_qr_code(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, MARIO)
    ticket = book_cie_by_buttons(citizen)
    photo = next(m for m in ticket if m.kind == "photo")
    booked = appointments_of(stack, citizen)
    assert len(booked) == 1 and f"Codice: {booked[0]['code']}" in photo.content
    verify = decode_qr(photo.download())
    assert verify == booked[0]["qr_payload"]
    page = httpx.get(verify, timeout=10)
    assert page.status_code == 200 and str(booked[0]["code"]) in page.text
    # A task done: the avvisi are offered, once, after the ticket; «No, grazie» is taken kindly.
    offer = [m for m in ticket if "gli avvisi del Comune" in m.content]
    assert len(offer) == 1 and ticket[-1] is offer[0]
    assert offer[0].buttons == ["🔔 Sì, scelgo gli avvisi", "No, grazie", "🏠 Menu", "🙋 Parla con una persona"]
    declined = press_and_wait(citizen, offer, "No, grazie")
    assert "niente avvisi" in said(declined) and "«avvisi»" in said(declined)

    # Move it to another day, then cancel it: the code stays, the old place is freed.
    citizen.send("i miei appuntamenti")
    listed = answers(citizen)
    days = press_and_wait(citizen, listed, "🔁 Sposta")
    assert "Spostiamo il tuo appuntamento" in said(days)
    later_days = [t for t in days[-1].buttons if t.startswith("📅 ")]
    citizen.press(later_days[-1], message_id=days[-1].message_id)
    times = answers(citizen)
    summary = press_and_wait(citizen, times, "🕘 ")
    assert "Sposto il tuo appuntamento" in said(summary)
    moved = press_and_wait(citizen, summary, "✅ Sì")
    assert "Appuntamento spostato" in said(moved)
    assert "avvisi" not in said(moved), "offered once, never again"
    after = appointments_of(stack, citizen)
    assert [a["code"] for a in after] == [booked[0]["code"]] and after[0]["starts_at"] != booked[0]["starts_at"]

    citizen.send("voglio disdire l'appuntamento")
    asked = answers(citizen)
    assert "Vuoi disdire" in said(asked)
    done = press_and_wait(citizen, asked, "✅ Sì, disdici")
    assert "è disdetto" in said(done)
    assert appointments_of(stack, citizen) == []


def next_weekday(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def test_a_booking_by_typed_date_is_understood(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, GIULIA)
    citizen.send("buongiorno, mi prenota un posto all'ufficio tributi per martedì prossimo alle 10?")
    replies = answers(citizen)
    tuesday = next_weekday(datetime.now(ROME).date(), 1)
    text = said(replies)
    assert long_date(tuesday).capitalize() in text
    if "Confermi?" in text:
        assert "alle 10:00" in text
        done = press_and_wait(citizen, replies, "✅ Sì")
        assert "Appuntamento prenotato" in said(done)
    else:  # taken or closed that day: the nearest free places are offered instead
        assert "più vicini" in text and any(t.startswith("🕘 ") for t in replies[-1].buttons)


def test_a_holiday_is_refused_with_alternatives(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, ANNA)
    citizen.send("posso prenotare la carta d'identità per il 25 dicembre alle 10?")
    replies = answers(citizen)
    text = said(replies)
    assert "chiuso" in text and "Natale" in text
    assert "più vicini" in text
    alternatives = [t for t in replies[-1].buttons if t.startswith("🕘 ")]
    assert alternatives and all("25 dicembre" not in t for t in alternatives)


def test_the_day_before_the_citizen_is_reminded(citizen: TelegramUser, stack: Stack) -> None:
    link(citizen, stack, ANNA)
    ticket = book_cie_by_buttons(citizen)
    assert "Appuntamento prenotato" in said(ticket)
    starts = datetime.fromisoformat(str(appointments_of(stack, citizen)[0]["starts_at"])).astimezone(ROME)
    eve = datetime.combine(starts.date() - timedelta(days=1), datetime.min.time(), ROME).replace(hour=18)
    with backoffice_api(stack) as api:
        first = api.post("/v1/jobs/appointment-reminders", json={"now": eve.isoformat()})
        first.raise_for_status()
        assert first.json()["count"] >= 1
    reminder = [m for m in answers(citizen, 1, timeout=30) if "🔔 Promemoria" in m.content]
    assert reminder and "domani" in reminder[0].content and "fototessera" in reminder[0].content
    with backoffice_api(stack) as api:
        again = api.post("/v1/jobs/appointment-reminders", json={"now": eve.isoformat()})
        again.raise_for_status()
        assert again.json()["count"] == 0
    citizen.expect_silence(within=3.0)
    assert re.search(r"\d{1,2}:\d{2}", reminder[0].content)


def test_booking_the_same_slot_again_after_cancelling_makes_a_real_new_booking(
    citizen: TelegramUser, stack: Stack
) -> None:
    link(citizen, stack, GIULIA)
    cancel_all(stack, citizen)  # from an earlier test
    try:
        _book_cancel_and_book_again(citizen, stack)
    finally:
        cancel_all(stack, citizen)  # Giulia's CIE is free for the tests that follow


def cancel_all(stack: Stack, citizen: TelegramUser) -> None:
    with backoffice_api(stack, f"telegram:{citizen.user_id}") as api:
        for left in appointments_of(stack, citizen):
            api.delete(f"/v1/appointments/{left['code']}").raise_for_status()


def _book_cancel_and_book_again(citizen: TelegramUser, stack: Stack) -> None:
    first = book_cie_by_buttons(citizen)
    assert "Appuntamento prenotato" in said(first)
    [booked] = appointments_of(stack, citizen)
    citizen.send("voglio disdire l'appuntamento")
    done = press_and_wait(citizen, answers(citizen), "✅ Sì, disdici")
    assert "è disdetto" in said(done)
    assert appointments_of(stack, citizen) == []

    again = book_cie_by_buttons(citizen)

    assert "Appuntamento prenotato" in said(again)
    [rebooked] = appointments_of(stack, citizen)
    assert rebooked["starts_at"] == booked["starts_at"], "the same slot, freed by the cancellation"
    assert rebooked["code"] != booked["code"] and rebooked["status"] == "prenotato"
    photo = next(m for m in again if m.kind == "photo")
    assert f"Codice: {rebooked['code']}" in photo.content
    assert decode_qr(photo.download()) == rebooked["qr_payload"]
