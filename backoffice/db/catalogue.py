"""What the comune offers, as seeded: its counter services with their hours, and its pratica types.

A new office is one more entry of COUNTER_SERVICES; a new pratica type one more of
PRACTICE_TYPES (with its fields and the question the chat asks for each).
"""

from __future__ import annotations

from typing import Any

from backoffice.db.models import FieldKind


def _weekdays(
    opens: str, closes: str, days: range | tuple[int, ...]
) -> list[dict[str, Any]]:
    return [{"weekday": day, "opens": opens, "closes": closes} for day in days]


# Mon–Fri mornings, Tue and Thu afternoons, as the comune's offices open.
_OFFICE_HOURS = sorted(
    _weekdays("08:30", "12:30", range(5)) + _weekdays("15:00", "17:00", (1, 3)),
    key=lambda hours: (hours["weekday"], hours["opens"]),
)
_TECHNICAL_OFFICE_HOURS = sorted(
    _weekdays("09:00", "12:00", (0, 2, 4)) + _weekdays("15:00", "17:00", (1, 3)),
    key=lambda hours: (hours["weekday"], hours["opens"]),
)

# The CIE: what to bring and what it costs (a duplicate after a loss or theft costs more).
CIE_REQUIREMENTS = [
    "una fototessera recente",
    "la carta d'identità scaduta o, se l'hai persa o te l'hanno rubata, la denuncia di "
    "smarrimento o furto",
    "la tessera sanitaria",
]
# The State's fee (16,79 €) with the comune's fixed and secretarial rights (5,16 € + 0,26 €);
# a duplicate doubles the fixed rights. The chat's FAQ (nlu/domain/faq.yml) says the same.
CIE_FEE_CENTS = 2221
CIE_DUPLICATE_FEE_CENTS = 2737
CIE_FEE_NOTE = (
    "22,21 € per la prima carta o il rinnovo; 27,37 € per un duplicato dopo smarrimento "
    "o furto. Si paga allo sportello."
)

COUNTER_SERVICES: tuple[dict[str, Any], ...] = (
    {
        "code": "anagrafe",
        "name": "Servizi demografici – Anagrafe",
        "description": "Carta d'identità elettronica (CIE), certificati, residenza e cambi di "
        "indirizzo, stato civile.",
        "location": "Piazza Risorgimento 1, piano terra – Cerveteri",
        "slot_minutes": 20,
        "desks": 3,
        "opening_hours": _OFFICE_HOURS,
        "requirements": [
            "un documento d'identità valido",
            "la tessera sanitaria (codice fiscale)",
        ],
    },
    {
        "code": "cie",
        "name": "Carta d'identità elettronica",
        "description": "Richiesta della carta d'identità elettronica (CIE): prima carta, rinnovo, "
        "duplicato dopo smarrimento o furto. Deve venire la persona a cui è intestata.",
        "location": "Piazza Risorgimento 1, piano terra (Anagrafe, sportello CIE) – Cerveteri",
        "slot_minutes": 20,
        "desks": 2,
        "opening_hours": _OFFICE_HOURS,
        "requirements": CIE_REQUIREMENTS,
        "fee_cents": CIE_FEE_CENTS,
        "fee_note": CIE_FEE_NOTE,
    },
    {
        "code": "tributi",
        "name": "Ufficio Tributi",
        "description": "TARI, IMU, canone unico: informazioni, rateizzazioni, rimborsi e avvisi "
        "di pagamento pagoPA.",
        "location": "Piazza Risorgimento 1, primo piano – Cerveteri",
        "slot_minutes": 15,
        "desks": 2,
        "opening_hours": _OFFICE_HOURS,
        "requirements": [
            "un documento d'identità",
            "l'avviso di pagamento o la lettera del Comune, se ce l'hai",
        ],
    },
    {
        "code": "ufficio_tecnico",
        "name": "Ufficio Tecnico – Edilizia privata",
        "description": "CILA, SCIA, permessi di costruire, accesso agli atti edilizi, "
        "ricevimento tecnici e cittadini.",
        "location": "Piazza Risorgimento 1, secondo piano – Cerveteri",
        "slot_minutes": 30,
        "desks": 1,
        "opening_hours": _TECHNICAL_OFFICE_HOURS,
        "requirements": [
            "un documento d'identità",
            "il numero di protocollo della pratica, se c'è già",
            "gli elaborati o i documenti di cui vuoi parlare",
        ],
    },
    {
        "code": "protocollo",
        "name": "Ufficio Protocollo",
        "description": "Consegna a mano di richieste e documenti da registrare.",
        "location": "Piazza Risorgimento 1, piano terra – Cerveteri",
        "slot_minutes": 10,
        "desks": 1,
        "opening_hours": _OFFICE_HOURS,
        "requirements": [
            "un documento d'identità",
            "i documenti da protocollare, firmati",
            "una copia in più, se vuoi la ricevuta timbrata",
        ],
    },
)


def _field(
    name: str,
    label: str,
    kind: FieldKind,
    question: str,
    required: bool = True,
    choices: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One form field; `question` is what the chat asks a citizen, in plain Italian."""
    return {
        "name": name,
        "label": label,
        "kind": kind.value,
        "required": required,
        "choices": list(choices),
        "question": question,
    }


_CERTIFICATE_USES = ("in bollo", "in carta libera (esente)")
_CERTIFICATE_FIELDS = (
    _field(
        "subject_fiscal_code",
        "Codice fiscale dell'intestatario",
        FieldKind.FISCAL_CODE,
        "Qual è il codice fiscale dell'intestatario del certificato?",
    ),
    _field(
        "use",
        "Uso del certificato",
        FieldKind.CHOICE,
        "Ti serve in bollo o in carta libera (esente)?",
        choices=_CERTIFICATE_USES,
    ),
)
_PROPERTY_FIELDS = (
    _field(
        "property_address",
        "Indirizzo dell'immobile",
        FieldKind.ADDRESS,
        "Qual è l'indirizzo dell'immobile?",
    ),
    _field(
        "cadastral_data",
        "Dati catastali (foglio, particella, subalterno)",
        FieldKind.TEXT,
        "Quali sono i dati catastali (foglio, particella, subalterno)?",
    ),
    _field(
        "works_description",
        "Descrizione sintetica dei lavori",
        FieldKind.TEXT,
        "Che lavori farai? Descrivili in poche parole.",
    ),
    _field(
        "technician",
        "Tecnico incaricato (nome e iscrizione all'albo)",
        FieldKind.TEXT,
        "Chi è il tecnico incaricato (nome e iscrizione all'albo)?",
    ),
    _field(
        "works_start_date",
        "Data di inizio lavori",
        FieldKind.DATE,
        "In che giorno iniziano i lavori?",
    ),
)
_SWORN_REPORT = _field(
    "sworn_report",
    "Relazione tecnica asseverata (PDF)",
    FieldKind.ATTACHMENT,
    "Mandami la relazione tecnica asseverata (PDF).",
)

PRACTICE_TYPES: tuple[dict[str, Any], ...] = (
    {
        "code": "certificato_residenza",
        "name": "Certificato di residenza",
        "description": "Certificato anagrafico di residenza, rilasciato dall'Anagrafe.",
        "fields": list(_CERTIFICATE_FIELDS),
    },
    {
        "code": "stato_famiglia",
        "name": "Certificato di stato di famiglia",
        "description": "Certificato con la composizione del nucleo familiare anagrafico.",
        "fields": list(_CERTIFICATE_FIELDS),
    },
    {
        "code": "cila",
        "name": "CILA – Comunicazione inizio lavori asseverata",
        "description": "Per manutenzione straordinaria senza interventi strutturali; efficace "
        "dalla presentazione.",
        "fields": [
            *_PROPERTY_FIELDS,
            _SWORN_REPORT,
            _field(
                "drawings",
                "Elaborati grafici (PDF)",
                FieldKind.ATTACHMENT,
                "Mandami gli elaborati grafici in PDF (facoltativi).",
                required=False,
            ),
        ],
    },
    {
        "code": "scia",
        "name": "SCIA – Segnalazione certificata di inizio attività",
        "description": "Per interventi anche strutturali; il Comune può effettuare controlli "
        "entro 30 giorni.",
        "fields": [
            *_PROPERTY_FIELDS,
            _SWORN_REPORT,
            _field(
                "drawings",
                "Elaborati grafici (PDF)",
                FieldKind.ATTACHMENT,
                "Mandami gli elaborati grafici (PDF).",
            ),
            _field(
                "structural_filing",
                "Deposito del progetto strutturale, se previsto (PDF)",
                FieldKind.ATTACHMENT,
                "Se è previsto, mandami il deposito del progetto strutturale (PDF, facoltativo).",
                required=False,
            ),
        ],
    },
    {
        "code": "occupazione_suolo",
        "name": "Occupazione di suolo pubblico",
        "description": "Concessione temporanea di suolo pubblico per cantieri, ponteggi, "
        "traslochi, dehors o eventi.",
        "fields": [
            _field(
                "purpose",
                "Motivo dell'occupazione",
                FieldKind.CHOICE,
                "Per che cosa ti serve il suolo pubblico?",
                choices=("cantiere", "ponteggio", "trasloco", "dehors", "evento"),
            ),
            _field(
                "address",
                "Luogo dell'occupazione",
                FieldKind.ADDRESS,
                "In quale via o piazza?",
            ),
            _field("start_date", "Dal giorno", FieldKind.DATE, "Da che giorno?"),
            _field("end_date", "Al giorno", FieldKind.DATE, "Fino a che giorno?"),
            _field(
                "area_m2",
                "Superficie occupata (m²)",
                FieldKind.TEXT,
                "Quanti metri quadrati occuperai?",
            ),
            _field(
                "site_plan",
                "Planimetria dell'area (PDF o foto)",
                FieldKind.ATTACHMENT,
                "Mandami la planimetria dell'area, in PDF o foto (facoltativa).",
                required=False,
            ),
        ],
    },
    {
        "code": "segnalazione",
        "name": "Segnalazione di un problema",
        "description": "Lampioni spenti, buche, rifiuti abbandonati, verde pubblico: "
        "una segnalazione agli uffici competenti.",
        "fields": [
            _field(
                "category",
                "Di che cosa si tratta",
                FieldKind.CHOICE,
                "Di che cosa si tratta?",
                choices=("illuminazione", "strade", "rifiuti", "verde", "altro"),
            ),
            _field(
                "location",
                "Dove si trova (posizione)",
                FieldKind.LOCATION,
                "Dove si trova? Mandami la posizione.",
            ),
            _field(
                "description",
                "Descrizione",
                FieldKind.TEXT,
                "Descrivi il problema in poche parole.",
            ),
            _field(
                "photo",
                "Foto",
                FieldKind.ATTACHMENT,
                "Mandami la foto del problema (facoltativa).",
                required=False,
            ),
        ],
    },
)
