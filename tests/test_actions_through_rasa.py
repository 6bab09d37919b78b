"""Every custom action runs through the real Rasa server and the real action server."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.stack import ROOT, Stack, backoffice_api, mint_link_code, rasa_turn

_senders = itertools.count(1)
MARIO = "RSSMRA50C12C552D"
GIULIA = "BNCGLI85L64C552A"
EXERCISED: set[str] = set()


def turn(stack: Stack, sender: str, message: str) -> list[dict[str, Any]]:
    return rasa_turn(stack, sender, message)


def new_sender() -> str:
    return f"rasa-it-{next(_senders)}"


def domain_actions() -> set[str]:
    actions: set[str] = set()
    for path in Path(ROOT, "nlu", "domain").glob("*.yml"):
        actions.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("actions") or [])
    return actions


def test_action_answer_faq_answers_a_typed_question(stack: Stack) -> None:
    answers = turn(stack, new_sender(), "quali documenti servono per la carta d'identità elettronica?")
    assert "22,21" in answers[0]["text"]
    assert answers[-1]["text"] == "Posso aiutarti in altro?"
    EXERCISED.add("action_answer_faq")


def test_action_answer_faq_answers_a_pressed_topic(stack: Stack) -> None:
    answers = turn(stack, new_sender(), '/faq{"faq_topic": "office_location"}')
    assert "Piazza Risorgimento" in answers[0]["text"]


def test_action_answer_faq_shows_the_topics_for_an_unknown_one(stack: Stack) -> None:
    answers = turn(stack, new_sender(), '/faq{"faq_topic": "passwords"}')
    assert "domande più frequenti" in answers[0]["text"]
    assert len(answers[0]["buttons"]) == 10


def test_action_fallback_asks_again_then_offers_a_person(stack: Stack) -> None:
    sender = new_sender()
    first = turn(stack, sender, "xqzv plomk trrr")
    assert "non ho capito" in first[0]["text"]
    second = turn(stack, sender, "vvvv bzzt klm")
    assert "Vuoi parlare con una persona" in second[0]["text"]
    assert turn(stack, sender, "/main_menu")[0]["text"] == "Cosa vuoi fare?"
    third = turn(stack, sender, "qqqq wwww")
    assert "non ho capito" in third[0]["text"], "a streak ends when the citizen is understood"
    EXERCISED.add("action_fallback")


def test_action_out_of_turn_reads_a_bare_number_by_its_shape(stack: Stack) -> None:
    answers = turn(stack, new_sender(), "2026/000123")
    assert answers[0]["text"].startswith("2026/000123 è un numero di protocollo")
    EXERCISED.add("action_out_of_turn")


def texts(answers: list[dict[str, Any]]) -> str:
    return "\n".join(str(a.get("text") or "") for a in answers)


def test_linking_through_the_link_form_and_the_done_action(stack: Stack) -> None:
    sender = new_sender()
    asked = turn(stack, sender, "voglio collegare il mio profilo")
    assert "codice di collegamento" in texts(asked)
    wrong = turn(stack, sender, "ZZZZ-ZZZZ")
    assert "non è valido" in texts(wrong)
    code = mint_link_code(stack, MARIO)
    done = turn(stack, sender, code.lower().replace("-", ""))
    assert "Fatto, Mario" in texts(done)
    assert "RSSMRA50C12C552D" not in texts(done), "the full codice fiscale never goes back to the chat"
    assert "Ora puoi presentare pratiche" in texts(done)
    EXERCISED.update({"validate_link_form", "action_link_done"})
    privacy = turn(stack, sender, "/privacy_request")
    assert "Scollega questa chat" in str(privacy[0]["buttons"])
    unlinked = turn(stack, sender, '/privacy_request{"privacy_action": "unlink"}')
    assert "Ho scollegato" in texts(unlinked)
    EXERCISED.add("action_privacy")


def customs(answers: list[dict[str, Any]]) -> list[Any]:
    return [a["custom"] for a in answers if "custom" in a]


def test_my_data_actions_ask_the_channel_and_erase_only_once_confirmed(stack: Stack) -> None:
    sender = new_sender()
    offer = turn(stack, sender, "che dati avete su di me?")
    assert ["📥 Scarica", "🗑️ Cancella"] == [b["title"] for b in offer[0]["buttons"]][:2]
    assert "Scollega" not in str(offer[0]["buttons"]), "a chat linked to nobody has nothing to unlink"
    assert customs(turn(stack, sender, "scarica i miei dati")) == [{"my_data": "export"}]
    asked = turn(stack, sender, "cancella i miei dati")
    assert "Vuoi cancellare i tuoi dati" in texts(asked) and customs(asked) == []
    assert "✅ Sì, cancella" in str(asked[0]["buttons"]) and "❌ No" in str(asked[0]["buttons"])
    typed = turn(stack, sender, "sì")
    assert customs(typed) == [] and texts(typed) == "Cosa vuoi fare?", "only the button erases, never a typed yes"
    pressed = turn(stack, sender, '/data_delete{"privacy_action": "confirm"}')
    assert customs(pressed) == [{"my_data": "erase"}]
    turn(stack, sender, "dimenticami")
    assert customs(turn(stack, sender, "/human_handoff")) == [{"handoff": {"topic": "Dati personali"}}]
    EXERCISED.update({"action_data_export", "action_data_delete"})


def linked_sender(stack: Stack, fiscal_code: str) -> str:
    sender = new_sender()
    turn(stack, sender, f'/account_link{{"link_code": "{mint_link_code(stack, fiscal_code)}"}}')
    return sender


def test_a_certificate_request_by_buttons_is_issued_with_its_document(stack: Stack) -> None:
    sender = linked_sender(stack, MARIO)
    types = turn(stack, sender, "/practice_submit")
    assert "Che pratica vuoi presentare?" in texts(types)
    EXERCISED.add("action_ask_practice_type")
    question = turn(stack, sender, '/inform{"practice_choice": "certificato_residenza"}')
    assert "👤 Sono io" in str(question[-1]["buttons"])
    EXERCISED.update({"validate_practice_form", "action_ask_practice_answer"})
    use = turn(stack, sender, '/inform{"practice_choice": "__me__"}')
    assert "in bollo" in str(use[-1]["buttons"])
    summary = turn(stack, sender, '/inform{"practice_choice": "in carta libera (esente)"}')
    assert "Ecco il riepilogo" in texts(summary) and "RSS***" in texts(summary)
    EXERCISED.add("action_ask_practice_confirm")
    issued = turn(stack, sender, "/affirm")
    assert "Numero di protocollo: 2026/" in texts(issued) or "Numero di protocollo: 20" in texts(issued)
    document = [a["custom"] for a in issued if a.get("custom")]
    assert document and document[0]["filename"].endswith(".pdf")
    assert httpx.get(document[0]["document_url"], timeout=10).content.startswith(b"%PDF")
    EXERCISED.add("action_submit_practice")


def test_back_goes_one_question_back_and_from_the_first_to_the_types(stack: Stack) -> None:
    sender = linked_sender(stack, MARIO)
    turn(stack, sender, "/practice_submit")
    first = turn(stack, sender, '/inform{"practice_choice": "certificato_residenza"}')
    assert "👤 Sono io" in str(first[-1]["buttons"]) and "⬅️ Indietro" in str(first[-1]["buttons"])
    use = turn(stack, sender, '/inform{"practice_choice": "__me__"}')
    assert "in bollo" in str(use[-1]["buttons"])
    again = turn(stack, sender, '/inform{"practice_back": true}')
    assert "👤 Sono io" in str(again[-1]["buttons"]), "back asks the previous question again"
    types = turn(stack, sender, '/inform{"practice_back": true}')
    assert "Che pratica vuoi presentare?" in texts(types)
    turn(stack, sender, "/cancel")


def test_a_question_about_the_cila_does_not_choose_the_pratica(stack: Stack) -> None:
    sender = linked_sender(stack, GIULIA)
    turn(stack, sender, "che differenza c'è tra cila e scia?")
    assert "Che pratica vuoi presentare?" in texts(turn(stack, sender, "/practice_submit"))


def test_cancelling_a_pratica_drops_the_draft(stack: Stack) -> None:
    sender = linked_sender(stack, GIULIA)
    turn(stack, sender, "/practice_submit")
    turn(stack, sender, '/inform{"practice_choice": "cila"}')
    cancelled = turn(stack, sender, "/cancel")
    assert "ho annullato la pratica" in texts(cancelled)
    EXERCISED.add("action_cancel_practice")


def test_a_report_with_its_category_asks_for_the_place(stack: Stack) -> None:
    sender = new_sender()
    asked = turn(stack, sender, "c'è un lampione spento in via Roma")
    assert "posizione" in texts(asked).lower()
    EXERCISED.add("action_prepare_report")


def test_tracking_is_only_for_the_chat_linked_to_the_owner(stack: Stack) -> None:
    # 2026/000118 is Mario's certificate in the demo data.
    stranger = new_sender()
    refused = turn(stack, stranger, "a che punto è la pratica 2026/000118?")
    assert "collega questa chat" in texts(refused)
    assert "🔗 Ho il codice" in [b["title"] for b in buttons_of(refused)]
    assert "accolta" not in texts(refused) and "Certificato" not in texts(refused)
    EXERCISED.add("validate_status_form")
    # Nothing is asked that a stranger could know: the owner's codice fiscale opens nothing.
    assert "codice fiscale" not in texts(refused)
    after_code = turn(stack, stranger, MARIO)
    assert "accolta" not in texts(after_code) and "Certificato" not in texts(after_code)
    # Another citizen's chat hears the same as for a number that does not exist.
    other = linked_sender(stack, GIULIA)
    theirs = texts(turn(stack, other, "a che punto è la pratica 2026/000118"))
    missing = texts(turn(stack, other, "a che punto è la pratica 2026/099999"))
    assert "Non trovo una tua pratica con il numero 2026/000118" in theirs and "accolta" not in theirs
    assert theirs.replace("000118", "099999") == missing
    owner = linked_sender(stack, MARIO)
    assert "numero di protocollo" in texts(turn(stack, owner, "/practice_status"))
    shown = turn(stack, owner, "2026/118")
    assert "Pratica 2026/000118" in texts(shown) and "accolta" in texts(shown)
    EXERCISED.add("action_practice_status")


def test_the_protocol_question_offers_a_linked_citizen_their_own_pratiche(stack: Stack) -> None:
    linked = linked_sender(stack, MARIO)
    asked = turn(stack, linked, "/practice_status")
    titles = [b["title"] for b in buttons_of(asked)]
    assert "🔎 2026/000118 – Certificato di residenza" in titles
    assert titles[-2:] == ["🏠 Menu", "🙋 Parla con una persona"]
    assert not any("2026/000119" in t for t in titles), "only the citizen's own pratiche"
    shown = turn(stack, linked, payload_of(asked, "🔎 2026/000118"))
    assert "Pratica 2026/000118" in texts(shown) and "accolta" in texts(shown)
    # A stranger is asked to type the number: nothing of anyone is listed.
    unlinked = turn(stack, new_sender(), "/practice_status")
    assert "Qual è il numero di protocollo" in texts(unlinked)
    assert [b["title"] for b in buttons_of(unlinked)] == ["🏠 Menu", "🙋 Parla con una persona"]
    EXERCISED.add("action_ask_protocol_number")


def test_a_menu_button_while_a_question_is_open_leaves_the_form_for_its_flow(stack: Stack) -> None:
    sender = linked_sender(stack, GIULIA)
    turn(stack, sender, "/practice_submit")
    turn(stack, sender, '/inform{"practice_choice": "cila"}')
    taxes = turn(stack, sender, "/tax_check")
    assert "412,00" in texts(taxes), "the tax summary, not an address of the CILA"
    resumed = turn(stack, sender, "/practice_submit")
    assert "indirizzo dell'immobile" in texts(resumed), "the draft is kept"


def test_typed_words_that_read_like_a_menu_choice_still_answer_the_question(stack: Stack) -> None:
    sender = new_sender()
    turn(stack, sender, "/report_issue")
    turn(stack, sender, '/inform{"practice_choice": "rifiuti"}')
    place = {"telegram": {"kind": "location", "location": {"latitude": 41.9956, "longitude": 12.0986}}}
    assert "Descrivi il problema" in texts(rasa_turn(stack, sender, "/inform", metadata=place))
    # The NLU reads these words as report_issue: typed, they are still the description.
    asked = turn(stack, sender, "rifiuti abbandonati vicino al cassonetto")
    assert "foto" in texts(asked)
    summary = turn(stack, sender, '/inform{"practice_skip": true}')
    assert "Descrizione: rifiuti abbandonati vicino al cassonetto" in texts(summary)


def test_the_list_of_pratiche_needs_a_linked_chat(stack: Stack) -> None:
    assert "devo sapere chi sei" in texts(turn(stack, new_sender(), "le mie pratiche"))
    listed = turn(stack, linked_sender(stack, MARIO), "/practice_list")
    assert "Le tue pratiche:" in texts(listed)
    EXERCISED.add("action_practice_list")


def test_a_file_with_no_pratica_waiting_is_acknowledged(stack: Stack) -> None:
    sender = new_sender()
    answers = rasa_turn(stack, sender, "/inform", metadata={"telegram": {"kind": "text"}})
    assert "Dimmi prima cosa vuoi fare" in texts(answers)
    EXERCISED.add("action_handle_inform")


def test_action_handoff_asks_the_channel_for_a_person_with_the_topic(stack: Stack) -> None:
    sender = linked_sender(stack, GIULIA)
    turn(stack, sender, "/practice_submit")
    turn(stack, sender, '/inform{"practice_choice": "cila"}')
    answers = turn(stack, sender, "voglio parlare con un operatore")
    assert [a["custom"] for a in answers if a.get("custom")] == [{"handoff": {"topic": "Pratiche"}}]
    # The form was left: after the handoff the assistant is not still asking its question.
    assert "Cosa vuoi fare?" in texts(turn(stack, sender, "/main_menu"))
    EXERCISED.add("action_handoff")


ANNA = "SPSNNA72S45C552P"


def buttons_of(answers: list[dict[str, Any]]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for answer in answers:
        found += answer.get("buttons") or []
        found += (answer.get("custom") or {}).get("buttons") or []
    return found


def payload_of(answers: list[dict[str, Any]], title_start: str) -> str:
    for button in buttons_of(answers):
        if button["title"].startswith(title_start):
            return button["payload"]
    raise AssertionError(f"no button starting {title_start!r} in {buttons_of(answers)}")


def test_the_tax_summary_needs_a_link_then_lists_what_is_owed(stack: Stack) -> None:
    unlinked = turn(stack, new_sender(), "/tax_check")
    assert "devo sapere chi sei" in texts(unlinked)
    summary = turn(stack, linked_sender(stack, GIULIA), '/tax_check{"tax_type": "IMU"}')
    assert "IMU" in texts(summary) and "TARI" not in texts(summary)
    assert "412,00" in texts(summary)
    assert payload_of(summary, "💳 Paga").startswith('/tax_pay{"tax_position": "')
    EXERCISED.add("action_tax_summary")


def test_paying_sends_the_pagopa_qr_and_refuses_a_forged_position(stack: Stack) -> None:
    sender = linked_sender(stack, GIULIA)
    pay = payload_of(turn(stack, sender, "/tax_check"), "💳 Paga")
    notice = [a["custom"] for a in turn(stack, sender, pay) if a.get("custom")]
    assert notice and re.fullmatch(r"PAGOPA\|002\|\d{18}\|\d{11}\|\d+", notice[0]["qr"])
    assert "Codice avviso: 3" in notice[0]["caption"]
    again = [a["custom"] for a in turn(stack, sender, pay) if a.get("custom")]
    assert again[0]["qr"] == notice[0]["qr"], "a notice issued twice is the same notice"
    forged = turn(stack, sender, '/tax_pay{"tax_position": "999999"}')
    assert "Non trovo questo avviso" in texts(forged)
    EXERCISED.add("action_tax_pay")


def test_reminders_can_be_turned_off_and_on(stack: Stack) -> None:
    sender = linked_sender(stack, ANNA)
    off = turn(stack, sender, '/reminder_settings{"reminder_choice": "off"}')
    assert "non ti manderò più promemoria" in texts(off)
    shown = turn(stack, sender, "/reminder_settings")
    assert "spenti" in texts(shown) and "🔔 Attiva i promemoria" in str(buttons_of(shown))
    on = turn(stack, sender, '/reminder_settings{"reminder_choice": "on"}')
    assert "ti scriverò qualche giorno prima" in texts(on)
    EXERCISED.add("action_reminder_settings")


def test_booking_by_buttons_shows_what_to_bring_and_gives_a_ticket(stack: Stack) -> None:
    sender = linked_sender(stack, MARIO)
    offices = turn(stack, sender, "/appointment_book")
    assert "Per quale ufficio" in texts(offices)
    days = turn(stack, sender, payload_of(offices, "🏛️ Carta"))
    assert "fototessera" in texts(days) and "Che giorno preferisci?" in texts(days)
    times = turn(stack, sender, payload_of(days, "📅 "))
    confirm = turn(stack, sender, payload_of(times, "🕘 "))
    assert "Confermi?" in texts(confirm)
    # A typed yes to the summary books too (the rule waits for it while booking_open is set).
    ticket = [a["custom"] for a in turn(stack, sender, "sì, va bene") if a.get("custom")]
    assert ticket and "Codice:" in ticket[0]["caption"] and ticket[0]["qr"]
    EXERCISED.add("action_appointment_book")
    listed = turn(stack, sender, "/appointment_list")
    assert "Carta d'identità" in texts(listed)
    EXERCISED.add("action_appointment_list")
    asked = turn(stack, sender, payload_of(listed, "❌ Disdici"))
    assert "Vuoi disdire" in texts(asked)
    done = turn(stack, sender, payload_of(asked, "✅ Sì, disdici"))
    assert "è disdetto" in texts(done)
    assert "Non hai appuntamenti" in texts(turn(stack, sender, "/appointment_list"))
    EXERCISED.add("action_appointment_cancel")


def test_forged_booking_buttons_get_a_kind_answer_and_book_nothing(stack: Stack) -> None:
    sender = linked_sender(stack, ANNA)
    unknown = turn(stack, sender, '/appointment_book{"service": "piscina"}')
    assert "Per quale ufficio" in texts(unknown)
    garbled = turn(stack, sender, '/appointment_book{"service": "cie", "appointment_slot": "domani"}')
    assert "Non ho capito l'orario scelto" in texts(garbled) and "📅 " in str(buttons_of(garbled))
    far = turn(stack, sender, '/appointment_book{"service": "tributi", "appointment_slot": "2031-01-07T09:00:00+01:00", "appointment_confirm": "yes"}')
    assert "non riceve" in texts(far) and "I primi posti liberi" in texts(far)
    assert "🕘 " in str(buttons_of(far)), "the first free places are offered as buttons"
    someone_elses = turn(stack, sender, '/appointment_cancel{"appointment_code": "ZZ-0000", "appointment_confirm": "yes"}')
    assert "Non trovo questo appuntamento" in texts(someone_elses)
    with backoffice_api(stack, f"telegram:{sender}") as api:
        assert all(a["service_code"] != "tributi" for a in api.get("/v1/appointments").json()["appointments"])


def test_every_custom_action_of_the_domain_is_exercised() -> None:
    # Runs last in this module (pytest keeps file order): new actions must get a test here.
    assert domain_actions() == EXERCISED
