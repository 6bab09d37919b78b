"""Print intent accuracy and entity precision/recall/F1 from a `rasa test nlu` results folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_SUMMARY_ROWS = {"accuracy", "micro avg", "macro avg", "weighted avg"}


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def entity_reports(results: Path) -> list[Path]:
    """Entity reports of the extractors that ran (DIETClassifier, RegexEntityExtractor, …)."""
    return sorted(
        p for p in results.glob("*_report.json")
        if p.name not in {"intent_report.json", "response_selection_report.json"}
    )


def best_entity_rows(results: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each entity with the extractor that finds it best, and that extractor's row."""
    best: dict[str, tuple[str, dict[str, Any]]] = {}
    for report in entity_reports(results):
        extractor = report.name.removesuffix("_report.json")
        for name, row in _load(report).items():
            if not isinstance(row, dict) or name in _SUMMARY_ROWS or name == "no_entity":
                continue
            if name not in best or row.get("f1-score", 0.0) > best[name][1].get("f1-score", 0.0):
                best[name] = (extractor, row)
    return best


def entity_f1(results: Path) -> float:
    """Micro-averaged F1 over every entity, each counted with its best extractor."""
    tp = fp = fn = 0.0
    for _, row in best_entity_rows(results).values():
        support = float(row.get("support", 0))
        found = float(row.get("recall", 0.0)) * support
        precision = float(row.get("precision", 0.0))
        tp += found
        fn += support - found
        fp += found / precision - found if precision > 0 else 0.0
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def figures(results: Path) -> dict[str, float]:
    """The figures a regression gate holds: intent accuracy, FAQ topic accuracy, entity F1."""
    intents = _load(results / "intent_report.json")
    selector = results / "response_selection_report.json"
    faq = _load(selector) if selector.exists() else {}
    return {
        "intent_accuracy": float(intents.get("accuracy", 0.0)),
        "faq_topic_accuracy": float(faq.get("accuracy", faq.get("micro avg", {}).get("f1-score", 0.0))),
        "entity_f1": entity_f1(results),
    }


def render(results: Path) -> str:
    """The figures of one evaluation, as a short plain-text table."""
    lines: list[str] = []
    intents = _load(results / "intent_report.json")
    weighted = intents.get("weighted avg", {})
    lines.append(f"intent accuracy        {intents.get('accuracy', 0.0):.3f}")
    lines.append(f"intent weighted F1     {weighted.get('f1-score', 0.0):.3f}")
    selector = results / "response_selection_report.json"
    if selector.exists():
        faq = _load(selector)
        lines.append(f"faq topic accuracy     {faq.get('accuracy', faq.get('micro avg', {}).get('f1-score', 0.0)):.3f}")
    weak = sorted(
        (name, row["f1-score"], row["support"])
        for name, row in intents.items()
        if name not in _SUMMARY_ROWS and isinstance(row, dict) and row.get("f1-score", 1.0) < 0.8
    )
    for name, f1, support in weak:
        lines.append(f"  weak intent {name:<22} F1 {f1:.2f} (n={support})")
    best = best_entity_rows(results)
    if best:
        # Several extractors run side by side (DIET, and the regexes for codes with a fixed
        # shape); each entity is shown with the one that finds it best.
        lines.append(f"{'entity':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>4}  by")
        for name, (extractor, row) in sorted(best.items()):
            lines.append(
                f"{name:<18} {row.get('precision', 0.0):>9.3f} {row.get('recall', 0.0):>7.3f}"
                f" {row.get('f1-score', 0.0):>6.3f} {int(row.get('support', 0)):>4}  {extractor}"
            )
        lines.append(f"entity F1 (micro)      {entity_f1(results):.3f}")
    return "\n".join(lines)


def main() -> None:
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "results")
    print(render(results))


if __name__ == "__main__":
    main()
