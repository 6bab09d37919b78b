"""The domain's responses render as written: JSON in a button payload is not a template slot.

Rasa fills `{slot}` placeholders in every text and payload of a response; a payload carrying
JSON (`/faq{"faq_topic": "tari_info"}`) must write its braces as `{{ }}`, or Rasa logs
`ERROR rasa.core.nlg.interpolator` each time the response is shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.stack import ROOT, Stack, rasa_turn

_PLACEHOLDER = re.compile(r"(?<!\{)\{([^\n{}]+?)\}(?!\})")
_INTENT_WITH_ENTITIES = re.compile(r"^/(?P<intent>\w+)\{\{(?P<json>.*)\}\}$")


def domain_slots() -> set[str]:
    slots: set[str] = set()
    for path in Path(ROOT, "nlu", "domain").glob("*.yml"):
        slots.update((yaml.safe_load(path.read_text(encoding="utf-8")).get("slots") or {}).keys())
    return slots


def response_strings() -> Iterator[tuple[str, str, str]]:
    """(file, response, string) for every text, title and payload of the domain's responses."""
    for path in sorted(Path(ROOT, "nlu", "domain").glob("*.yml")):
        responses: dict[str, list[dict[str, Any]]] = (
            yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}
        )
        for name, variants in responses.items():
            for variant in variants:
                if "text" in variant:
                    yield path.name, name, str(variant["text"])
                for button in variant.get("buttons") or []:
                    yield path.name, name, str(button["title"])
                    yield path.name, name, str(button["payload"])


def test_every_placeholder_names_a_slot_and_json_payloads_are_escaped() -> None:
    slots = domain_slots()
    strings = list(response_strings())
    assert len(strings) > 100, "the domain's responses were read"
    json_payloads = 0
    for file, name, value in strings:
        for placeholder in _PLACEHOLDER.findall(value):
            assert placeholder in slots, f"{file} {name}: {{{placeholder}}} is no slot: write {{{{ }}}}"
        if value.startswith("/") and "{" in value:
            match = _INTENT_WITH_ENTITIES.match(value)
            assert match, f"{file} {name}: the payload {value!r} must write its JSON braces as {{{{ }}}}"
            assert isinstance(json.loads("{" + match["json"] + "}"), dict), f"{file} {name}: {value!r}"
            json_payloads += 1
    assert json_payloads >= 10, "the FAQ buttons carry their topic as JSON"


def test_rasa_shows_json_payloads_without_interpolation_errors(stack: Stack) -> None:
    log = stack.rasa.log_path
    before = log.stat().st_size
    sender = "domain-responses-1"
    help_answers = rasa_turn(stack, sender, "/help")
    payloads = [b["payload"] for a in help_answers for b in a.get("buttons") or []]
    assert '/faq{"faq_topic": "office_hours"}' in payloads, payloads
    assert '/faq{"faq_topic": "certificates_online"}' in payloads
    taxes = rasa_turn(stack, "domain-responses-2", "/tax_check")
    tax_payloads = [b["payload"] for a in taxes for b in a.get("buttons") or []]
    assert '/faq{"faq_topic": "tari_info"}' in tax_payloads, tax_payloads
    # The pressed button works: its topic reaches the FAQ action.
    assert "TARI" in rasa_turn(stack, sender, '/faq{"faq_topic": "tari_info"}')[0]["text"]
    written = log.read_bytes()[before:].decode(errors="replace")
    assert "interpolator" not in written, written[-3000:]
    assert "ERROR" not in written, written[-3000:]


def test_the_chats_cie_answer_says_the_fee_the_counter_charges() -> None:
    """The FAQ is a text of the model, the booking's fee a row of the back office: one price."""
    from backoffice.db.catalogue import CIE_FEE_CENTS, CIE_FEE_NOTE

    faq = yaml.safe_load(Path(ROOT, "nlu", "domain", "faq.yml").read_text(encoding="utf-8"))
    text = faq["responses"]["utter_faq/cie_requirements"][0]["text"]
    said = re.search(r"(\d+),(\d\d) euro", text)
    assert said is not None, text
    assert int(said.group(1)) * 100 + int(said.group(2)) == CIE_FEE_CENTS
    assert CIE_FEE_NOTE.startswith(f"{said.group(1)},{said.group(2)} €")
