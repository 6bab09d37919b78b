"""The cruscotto's figures as CSV, the way Italian Excel reads it (';', decimal comma)."""

from __future__ import annotations

import csv
import io

from backoffice.analytics.schemas import Figures

CSV_HEADER = ("Giorno", "Indicatore", "Valore")
CSV_DELIMITER = ";"
# The per-day figures as the CSV names them, in Italian.
DAY_LABELS: tuple[tuple[str, str], ...] = (
    ("conversations", "Conversazioni"),
    ("solved_by_bot", "Risolte dall'assistente"),
    ("handed_to_person", "Passate a una persona"),
    ("user_messages", "Messaggi dei cittadini"),
    ("fallbacks", "Messaggi non capiti"),
    ("out_of_hours", "Conversazioni fuori orario"),
    ("tickets", "Richieste a una persona"),
    ("wait_median_seconds", "Attesa mediana (secondi)"),
    ("wait_p90_seconds", "Attesa 90° percentile (secondi)"),
    ("ratings", "Valutazioni"),
    ("rating_average", "Valutazione media"),
    ("practices_chat", "Pratiche dalla chat"),
    ("practices_other", "Pratiche da altri canali"),
)


def _cell(value: object) -> str:
    """A number as Italian Excel reads it (decimal comma); empty when not available."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def csv_text(result: Figures) -> str:
    """One row per day per figure, then the period's forms and intents; ';' between cells.

    An empty value is a figure whose store could not be read. No message text is written.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for day in result.days:
        for name, label in DAY_LABELS:
            writer.writerow((day.day.isoformat(), label, _cell(getattr(day, name))))
    span = f"{result.period.first.isoformat()}/{result.period.last.isoformat()}"
    for intent in result.top_intents or ():
        writer.writerow((span, f"Intento {intent.intent}", intent.count))
    for form in result.forms or ():
        writer.writerow((span, f"Modulo {form.form}: avviati", form.started))
        writer.writerow((span, f"Modulo {form.form}: completati", form.completed))
        for step in form.steps:
            writer.writerow((span, f"Modulo {form.form}, passo {step.step}: raggiunto", step.reached))
            writer.writerow((span, f"Modulo {form.form}, passo {step.step}: abbandoni", step.dropped))
    return out.getvalue()
