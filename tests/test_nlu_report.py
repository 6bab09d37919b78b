"""`make nlu-eval` prints the figures Rasa wrote: intent accuracy and entity precision/recall/F1."""

from __future__ import annotations

import json
from pathlib import Path

from sportello.nlu_report import figures, render


def test_the_report_shows_accuracy_weak_intents_and_the_best_extractor_per_entity(tmp_path: Path) -> None:
    (tmp_path / "intent_report.json").write_text(json.dumps({
        "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 6},
        "inform": {"precision": 0.5, "recall": 0.6, "f1-score": 0.55, "support": 9},
        "accuracy": 0.9,
        "weighted avg": {"precision": 0.9, "recall": 0.9, "f1-score": 0.88, "support": 15},
    }))
    (tmp_path / "DIETClassifier_report.json").write_text(json.dumps({
        "link_code": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 3},
        "tax_type": {"precision": 1.0, "recall": 0.9, "f1-score": 0.947, "support": 20},
        "micro avg": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 23},
    }))
    (tmp_path / "RegexEntityExtractor_report.json").write_text(json.dumps({
        "link_code": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 3},
        "tax_type": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 20},
    }))
    report = render(tmp_path)
    assert "intent accuracy        0.900" in report
    assert "weak intent inform" in report and "weak intent greet" not in report
    assert "link_code              1.000   1.000  1.000    3  RegexEntityExtractor" in report
    assert "tax_type               1.000   0.900  0.947   20  DIETClassifier" in report


def test_the_gate_figures_count_each_entity_with_its_best_extractor(tmp_path: Path) -> None:
    (tmp_path / "intent_report.json").write_text(json.dumps({"accuracy": 0.96}))
    (tmp_path / "response_selection_report.json").write_text(json.dumps({"accuracy": 0.97}))
    (tmp_path / "DIETClassifier_report.json").write_text(json.dumps({
        "service": {"precision": 0.5, "recall": 1.0, "f1-score": 0.667, "support": 10},
        "link_code": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 10},
    }))
    (tmp_path / "RegexEntityExtractor_report.json").write_text(json.dumps({
        "link_code": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 10},
    }))
    got = figures(tmp_path)
    assert got["intent_accuracy"] == 0.96 and got["faq_topic_accuracy"] == 0.97
    # service: 10 found, 10 wrong; link_code: 10 found: tp 20, fp 10, fn 0.
    assert abs(got["entity_f1"] - 40 / 50) < 1e-9
    assert "entity F1 (micro)      0.800" in render(tmp_path)
