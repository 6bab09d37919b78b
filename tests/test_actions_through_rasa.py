"""Every custom action runs through the real Rasa server and the real action server."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import yaml

from tests.stack import ROOT, Stack, rasa_turn

_senders = itertools.count(1)
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


def test_action_list_counter_services_reads_the_back_office(stack: Stack) -> None:
    answers = turn(stack, new_sender(), "/appointment_book")
    text = answers[0]["text"]
    assert text.startswith("Questi sono gli uffici del Comune")
    for office in ("Anagrafe", "Ufficio Tributi", "Ufficio Tecnico", "Protocollo"):
        assert office in text
    EXERCISED.add("action_list_counter_services")


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


def test_every_custom_action_of_the_domain_is_exercised() -> None:
    # Runs last in this module (pytest keeps file order): new actions must get a test here.
    assert domain_actions() == EXERCISED
