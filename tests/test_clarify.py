"""A guess between two close intents asks "Intendevi A o B?"; noise still falls back."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import misunderstandings_in_a_row
from actions.out_of_turn import ActionOutOfTurn, close_intents


def message(text: str, ranking: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": 0.55},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.55}]
        + [{"name": n, "confidence": c} for n, c in ranking],
        "entities": [],
    }


def test_two_close_real_guesses_are_asked_about() -> None:
    assert close_intents(message("x", [("appointment_book", 0.41), ("practice_submit", 0.38)])) == (
        "appointment_book",
        "practice_submit",
    )


def test_a_clear_winner_or_noise_is_not_asked_about() -> None:
    assert close_intents(message("x", [("appointment_book", 0.52), ("practice_submit", 0.12)])) is None
    assert close_intents(message("x", [("appointment_book", 0.15), ("practice_submit", 0.14)])) is None
    # Greetings and small talk are no choice to offer.
    assert close_intents(message("x", [("greet", 0.45), ("thank", 0.40)])) is None


async def test_the_question_has_two_buttons_then_the_menu_and_a_person() -> None:
    latest = message("devo fare la carta", [("appointment_book", 0.41), ("practice_submit", 0.38)])
    tracker = Tracker("cl-1", {}, latest, [{"event": "user", "text": latest["text"]}], False, None, {}, None)
    dispatcher = CollectingDispatcher()
    events = await ActionOutOfTurn().run(dispatcher, tracker, {})
    assert events == []
    [asked] = dispatcher.messages
    assert asked["text"] == "Intendevi «prenotare allo sportello» o «presentare una pratica»?"
    assert [b["payload"] for b in asked["buttons"]] == [
        "/appointment_book",
        "/practice_submit",
        "/main_menu",
        "/human_handoff",
    ]


def test_a_streak_counts_the_answers_that_said_not_understood() -> None:
    def said(response: str | None) -> dict[str, Any]:
        return {"event": "bot", "text": "…", "metadata": {"utter_action": response} if response else {}}

    assert misunderstandings_in_a_row([said("utter_greet"), said("utter_fallback")]) == 1
    assert misunderstandings_in_a_row([said("utter_fallback"), said("utter_fallback_twice")]) == 2
    # Any other answer, a clarifying question included (no response name), ends a streak.
    assert misunderstandings_in_a_row([said("utter_fallback"), said(None)]) == 0
    assert misunderstandings_in_a_row([said("utter_fallback"), said("utter_main_menu")]) == 0
