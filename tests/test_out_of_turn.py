"""Answers out of turn, read by their shape and the last question (units, no back office)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.out_of_turn import ActionOutOfTurn, bare_link_code, first_message, last_question, route
from actions.taxes import notice_number_in


def user(text: str, intent: str = "inform") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(text: str, utter_action: str | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": utter_action} if utter_action else {}}


def tracker(text: str, events: list[dict[str, Any]], intent: str = "inform", **slots: Any) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker("ot-1", dict(slots), latest, [*events, user(text, intent)], False, None, {}, "action_listen")


async def run(t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionOutOfTurn().run(dispatcher, t, {})
    return dispatcher.messages, events


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("AWLP-CJ4P", "AWLP-CJ4P"),
        ("awlp-cj4p", "AWLP-CJ4P"),
        (" K7P2QX9M. ", "K7P2-QX9M"),
        ("k7p2 - qx9m", "K7P2-QX9M"),
        ("ciaociao", None),  # eight letters and no dash: a word, not a code
        ("il codice è AWLP-CJ4P", None),  # not bare: the NLU's entity takes it
        ("2026/000123", None),
    ],
)
def test_a_bare_link_code_is_read_by_its_shape(text: str, code: str | None) -> None:
    assert bare_link_code(text) == code


def test_the_last_question_is_what_the_assistant_said_since_the_last_message() -> None:
    events = [
        user("/greet"),
        bot("Ciao!", "utter_greet"),
        user("i miei tributi"),
        bot("Per vedere i tuoi tributi … prendi il codice di collegamento e scrivimelo qui.", "utter_taxes_unlinked"),
        user("AWLP-CJ4P"),
    ]
    question = last_question(events)
    assert "utter_taxes_unlinked" in question and "codice di collegamento" in question
    assert "utter_greet" not in question


def test_the_first_message_after_start() -> None:
    assert first_message([user("/greet"), bot("Ciao!"), user("AWLP-CJ4P")])
    assert first_message([user("AWLP-CJ4P")])
    assert not first_message([user("/greet"), user("buongiorno"), user("AWLP-CJ4P")])


def test_the_whole_eighteen_digits_of_a_notice() -> None:
    assert notice_number_in("3010 0000 0000 0020 12") == "301000000000002012"
    assert notice_number_in("avviso 301000000000002012.") == "301000000000002012"
    assert notice_number_in("30100000000000201") is None  # 17 digits


async def test_a_bare_protocol_number_with_no_question_offers_its_status() -> None:
    messages, events = await run(tracker("2026/123", [user("/greet"), bot("Ciao!", "utter_greet")]))
    assert messages[0]["text"].startswith("2026/000123 è un numero di protocollo")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[0] == '/practice_status{"protocol_number": "2026/000123"}'
    assert "/human_handoff" in payloads and "/main_menu" in payloads
    assert events == []


async def test_a_bare_codice_fiscale_is_never_written_back() -> None:
    messages, _ = await run(tracker("rssmra50c12c552d", []))
    assert "codice fiscale" in messages[0]["text"]
    assert "RSSMRA50C12C552D" not in str(messages).upper()
    assert messages[0]["buttons"][0]["payload"] == "/account_link"


async def test_a_bare_notice_offers_to_pay_it_and_after_the_taxes_pays_it() -> None:
    messages, _ = await run(tracker("3010 0000 0000 0020 12", []))
    assert "avviso di pagamento pagoPA" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == '/tax_pay{"notice_number": "301000000000002012"}'
    asked = [user("pagare"), bot("Quale tributo vuoi pagare? Scegli qui sotto o scrivi il codice avviso.")]
    assert route(tracker("301000000000002012", asked)) == "tax_pay"


def test_a_notice_number_with_the_wish_to_pay_goes_to_the_payment() -> None:
    for text in ("voglio pagare l'avviso 3010 0000 0000 0000 02", "pago questo: 301000000000002012"):
        assert route(tracker(text, [], intent="nlu_fallback")) == "tax_pay", text
    assert route(tracker("cos'è l'avviso 3010 0000 0000 0000 02?", [], intent="nlu_fallback")) != "tax_pay"


def test_a_bare_link_code_links_after_the_prompt_first_or_with_a_dash() -> None:
    prompt = [user("i miei tributi"), bot("… prendi il codice di collegamento e scrivimelo qui.", "utter_taxes_unlinked")]
    assert route(tracker("k7p2qx9m", [user("/greet"), bot("Ciao!", "utter_greet"), *prompt])) == "link"
    assert route(tracker("k7p2qx9m", [user("/greet"), bot("Ciao!", "utter_greet")])) == "link"
    assert route(tracker("K7P2-QX9M", [user("ciao"), bot("Ciao!"), user("orari"), bot("…")])) == "link"
    assert route(tracker("k7p2qx9m", [user("ciao"), bot("Ciao!"), user("orari"), bot("…")])) is None


def test_a_day_while_booking_goes_to_the_booking() -> None:
    assert route(tracker("giovedì", [], booking_open=True)) == "booking"
    assert route(tracker("giovedì", [], booking_open=False)) is None


async def test_what_has_no_shape_goes_on_as_before() -> None:
    messages, events = await run(tracker("xqzv plomk", [], intent="nlu_fallback"))
    assert [m["response"] for m in messages] == ["utter_fallback"]
    assert events == [{"event": "rewind", "timestamp": None}]
    # Read as an answer but carrying nothing: not understood either.
    messages, _ = await run(tracker("qqqq wwww", []))
    assert [m["response"] for m in messages] == ["utter_fallback"]


async def test_the_chat_facts_every_message_carries_are_no_answer() -> None:
    t = tracker("blorf wuzzle kraa", [])
    t.latest_message["metadata"] = {"telegram": {"chat_type": "private", "language_code": "it"}}
    messages, _ = await run(t)
    assert [m["response"] for m in messages] == ["utter_fallback"]
