"""Entity post-processing: one entity per span, canonical values, the unusable ones dropped."""

from __future__ import annotations

import pytest

from nlu.entity_values import canonical_value, clean_entities


def found(entity: str, value: str, start: int, end: int, extractor: str = "DIETClassifier") -> dict[str, object]:
    return {"entity": entity, "value": value, "start": start, "end": end, "extractor": extractor}


def test_diet_and_the_regex_finding_one_protocol_number_give_one_entity() -> None:
    text = "stato della pratica 2026/000123"
    entities = [
        found("protocol_number", "2026/000123", 20, 31),
        found("protocol_number", "2026/000123", 20, 31, "RegexEntityExtractor"),
    ]
    [kept] = clean_entities(entities, text)
    assert kept["extractor"] == "RegexEntityExtractor"
    assert kept["value"] == "2026/000123"


def test_a_partial_code_is_read_whole_from_the_text() -> None:
    text = "pratica 2026/123"
    [kept] = clean_entities([found("protocol_number", "2026/12", 8, 16)], text)
    assert kept["value"] == "2026/000123"
    assert clean_entities([found("notice_number", "30100000", 0, 8)], "30100000") == []


@pytest.mark.parametrize(
    ("entity", "value", "canonical"),
    [
        ("service", "uffici tecnici", "ufficio_tecnico"),
        ("service", "Anagrafe", "anagrafe"),
        ("service", "ufficio", None),
        ("practice_type", "suolo pubblico", "occupazione_suolo"),
        ("practice_type", "permesso", None),
        ("practice_type", "stato_famiglia", "stato_famiglia"),
        ("issue_category", "lampioni rotti", "illuminazione"),
        ("issue_category", "buche", "strade"),
        ("issue_category", "problema", None),
        ("tax_type", "tassa rifiuti", "TARI"),
        ("tax_type", "tassa", None),
        ("link_code", "awlp cj4p", "AWLP-CJ4P"),
        ("fiscal_code", "rssmra50c12c552d", "RSSMRA50C12C552D"),
        ("faq_topic", "passwords", None),
    ],
)
def test_values_are_canonical_or_dropped(entity: str, value: str, canonical: str | None) -> None:
    assert canonical_value(entity, value) == canonical


def test_the_same_value_twice_is_kept_once_and_different_ones_both() -> None:
    text = "anagrafe o ufficio anagrafe"
    entities = [found("service", "anagrafe", 0, 8), found("service", "anagrafe", 11, 27)]
    assert len(clean_entities(entities, text)) == 1
    text = "tari e imu"
    entities = [found("tax_type", "TARI", 0, 4), found("tax_type", "IMU", 7, 10)]
    assert [e["value"] for e in clean_entities(entities, text)] == ["TARI", "IMU"]
