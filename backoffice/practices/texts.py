"""What citizens read about their pratiche: status labels and the next step, in plain Italian."""

from __future__ import annotations

from backoffice.db.models import PracticeStatus

S = PracticeStatus

STATUS_LABELS: dict[str, str] = {
    S.BOZZA: "bozza",
    S.PRESENTATA: "presentata",
    S.IN_ISTRUTTORIA: "in esame",
    S.INTEGRAZIONE_RICHIESTA: "in attesa di documenti",
    S.ACCOLTA: "accolta",
    S.RESPINTA: "respinta",
    S.ARCHIVIATA: "archiviata",
}

# What happens next, or what the citizen must do, in one sentence. Keys are a status, or
# "<practice type code>:<status>" where one type needs its own words; the specific key wins.
NEXT_STEPS: dict[str, str] = {
    S.BOZZA: "La pratica non è ancora stata presentata: completala per inviarla.",
    S.PRESENTATA: "L'ufficio la prenderà in carico a breve: ti scrivo io quando cambia qualcosa.",
    S.IN_ISTRUTTORIA: "L'ufficio la sta esaminando: ti scrivo io appena c'è una novità.",
    S.INTEGRAZIONE_RICHIESTA: "L'ufficio ti chiede un documento: mandalo qui in chat.",
    S.ACCOLTA: "La pratica è stata accolta: non devi fare altro.",
    S.RESPINTA: "La pratica è stata respinta: leggi la motivazione e, se hai dubbi, "
    "chiedi a una persona dell'ufficio.",
    S.ARCHIVIATA: "La pratica è chiusa e archiviata: non devi fare altro.",
    f"certificato_residenza:{S.ACCOLTA}": "Il certificato è pronto: lo trovi qui in chat.",
    f"stato_famiglia:{S.ACCOLTA}": "Il certificato è pronto: lo trovi qui in chat.",
    f"cila:{S.PRESENTATA}": "La CILA è efficace da subito: puoi iniziare i lavori dalla data indicata.",
    f"scia:{S.PRESENTATA}": "Puoi iniziare i lavori; il Comune può fare controlli entro 30 giorni.",
    f"segnalazione:{S.PRESENTATA}": "La segnalazione è arrivata all'ufficio competente: "
    "ti scrivo io quando cambia qualcosa.",
}


def status_label(status: str) -> str:
    """The status as a citizen reads it ("in attesa di documenti")."""
    return STATUS_LABELS.get(status, status.replace("_", " "))


def next_step(practice_type: str, status: str) -> str:
    """One plain sentence of what happens next for a pratica of this type in this status."""
    return NEXT_STEPS.get(f"{practice_type}:{status}") or NEXT_STEPS.get(status, "")
