"""Answers out of turn through the whole assistant: bot, Rasa, actions, back office.

A citizen who reads the link code from the portal types just the code: after the assistant
asked for it, and as the very first message after /start, the chat is linked.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

from localtelegram import TelegramUser
from tests.stack import Stack, mint_link_code, rasa_turn
from tests.test_chat_e2e import answers

MARIO = "RSSMRA50C12C552D"
GIULIA = "BNCGLI85L64C552A"


def said(replies: list[object]) -> str:
    return "\n".join(getattr(r, "content", "") for r in replies)


def test_a_bare_code_after_the_prompt_links_the_chat(citizen: TelegramUser, stack: Stack) -> None:
    citizen.send("quanto devo pagare di tari quest'anno?")
    asked = said(answers(citizen))
    assert "codice di collegamento" in asked
    code = mint_link_code(stack, GIULIA)
    citizen.send(code)
    done = said(answers(citizen, 2))
    assert "Fatto, Giulia" in done, done
    assert "Ora puoi presentare pratiche" in done
    assert GIULIA not in done


def test_a_bare_code_as_the_first_message_after_start_links_the_chat(citizen: TelegramUser, stack: Stack) -> None:
    citizen.send("/start")
    assert "assistente automatico" in said(answers(citizen))
    code = mint_link_code(stack, MARIO)
    citizen.send(code.lower())
    done = said(answers(citizen, 2))
    assert "Fatto, Mario" in done, done
    # Linked for real: the taxes are this citizen's now.
    citizen.send("quanto devo pagare di tari quest'anno?")
    assert "codice di collegamento" not in said(answers(citizen))


def test_a_wrong_bare_code_first_is_said_wrong_not_misunderstood(citizen: TelegramUser) -> None:
    citizen.send("/start")
    answers(citizen)
    citizen.send("ZZZZ-ZZZ9")
    reply = said(answers(citizen))
    assert "codice non è valido" in reply, reply
    assert "non ho capito" not in reply


def test_bare_numbers_with_no_question_open_offer_what_can_be_done(stack: Stack) -> None:
    protocol = rasa_turn(stack, "oot-e2e-1", "2026/000123")
    assert protocol[0]["text"].startswith("2026/000123 è un numero di protocollo"), protocol
    notice = rasa_turn(stack, "oot-e2e-2", "3010 0000 0000 0020 12")
    assert "avviso di pagamento pagoPA" in notice[0]["text"], notice
    assert notice[0]["buttons"][0]["payload"] == '/tax_pay{"notice_number": "301000000000002012"}'
    fiscal = rasa_turn(stack, "oot-e2e-3", "RSSMRA50C12C552D")
    assert "codice fiscale" in fiscal[0]["text"], fiscal
    assert MARIO not in str(fiscal)


def test_two_misses_in_a_row_still_offer_a_person_and_the_menu(stack: Stack) -> None:
    first = rasa_turn(stack, "oot-e2e-4", "xqzv plomk trrr")
    assert "non ho capito" in first[0]["text"]
    second = rasa_turn(stack, "oot-e2e-4", "vvvv bzzt klm")
    assert "Vuoi parlare con una persona" in second[0]["text"]
    assert [b["payload"] for b in second[0]["buttons"]] == ["/human_handoff", "/main_menu"]


def _next(weekday: int, today: dt.date) -> dt.date:
    return today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def test_office_hours_for_the_office_and_the_day_asked(stack: Stack) -> None:
    from actions.when import rome_today

    today = rome_today()
    saturday = _next(5, today)
    answer = rasa_turn(stack, "oot-e2e-5", "a che ora apre l'anagrafe sabato?")
    named = format_date(saturday, "EEEE d MMMM", locale="it")
    if saturday == today + dt.timedelta(days=1):  # asked on a Friday: «Domani, sabato …,»
        closed = f"Domani, {named}, l'Anagrafe è chiusa"
    else:
        closed = f"{named[:1].upper() + named[1:]} l'Anagrafe è chiusa"
    assert answer[0]["text"] == f"{closed}." or answer[0]["text"].startswith(f"{closed}: "), answer
    tomorrow = today + dt.timedelta(days=1)
    answer = rasa_turn(stack, "oot-e2e-6", "l'ufficio tributi domani a che ora apre?")
    if tomorrow.weekday() in (1, 3):
        hours = " è aperto 8:30–12:30 e 15:00–17:00."
    elif tomorrow.weekday() < 5:
        hours = " è aperto 8:30–12:30."
    else:
        hours = " è chiuso."
    expected = f"Domani, {format_date(tomorrow, 'EEEE d MMMM', locale='it')}, l'Ufficio Tributi{hours}"
    holiday = answer[0]["text"].startswith(f"Domani, {format_date(tomorrow, 'EEEE d MMMM', locale='it')}, l'Ufficio Tributi è chiuso: ")
    assert holiday or answer[0]["text"] == expected, answer
    general = rasa_turn(stack, "oot-e2e-7", "orari degli uffici")
    assert general[0]["text"].startswith("Orari degli uffici aperti al pubblico:"), general
