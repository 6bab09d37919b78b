"""Demo data for a fresh database: citizens, pratiche, taxes, counters and pratica types."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from codicefiscale import codicefiscale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice import models
from backoffice.models import FieldKind, PracticeStatus, TaxStatus
from backoffice.pagopa import notice_number

log = logging.getLogger(__name__)

CERVETERI_BELFIORE = "C552"
# Segregation code of the comune's pagoPA notices (demo value).
SEGREGATION_CODE = "01"


@dataclass(frozen=True)
class DemoCitizen:
    """A demo citizen; the codice fiscale is computed from the birth data, as the real one is."""

    given_name: str
    family_name: str
    gender: str
    birthdate: date
    email: str
    phone: str
    address: str
    household_id: str  # the anagrafe's family sheet

    @property
    def fiscal_code(self) -> str:
        return str(
            codicefiscale.encode(
                lastname=self.family_name,
                firstname=self.given_name,
                gender=self.gender,  # type: ignore[arg-type]
                birthdate=self.birthdate.strftime("%d/%m/%Y"),
                birthplace=CERVETERI_BELFIORE,
            )
        )


DEMO_CITIZENS = (
    DemoCitizen(
        "Mario",
        "Rossi",
        "M",
        date(1950, 3, 12),
        "mario.rossi@example.org",
        "+39 333 100 0001",
        "Via Aurelia 21, 00052 Cerveteri (RM)",
        "F-000101",
    ),
    DemoCitizen(
        "Giulia",
        "Bianchi",
        "F",
        date(1985, 7, 24),
        "giulia.bianchi@example.org",
        "+39 333 100 0002",
        "Via Roma 45, 00052 Cerveteri (RM)",
        "F-000102",
    ),
    DemoCitizen(
        "Anna",
        "Esposito",
        "F",
        date(1972, 11, 5),
        "anna.esposito@example.org",
        "+39 333 100 0003",
        "Via Settevene Palo 12, 00052 Cerveteri (RM)",
        "F-000103",
    ),
)


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
CIE_FEE_CENTS = 2220
CIE_DUPLICATE_FEE_CENTS = 2770
CIE_FEE_NOTE = (
    "22,20 € per la prima carta o il rinnovo; 27,70 € per un duplicato dopo smarrimento "
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


async def database_is_empty(session: AsyncSession) -> bool:
    """Tell whether nothing has been seeded or created yet."""
    citizens = await session.scalar(select(func.count()).select_from(models.Citizen))
    services = await session.scalar(
        select(func.count()).select_from(models.CounterService)
    )
    return not citizens and not services


async def seed_demo_data(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> bool:
    """Fill an empty database with the demo world; return whether anything was written.

    Safe to call on every start and from concurrent replicas: a database that holds
    anything is left alone, and a replica that loses the race hits a unique constraint
    and steps back.
    """
    now = now or datetime.now(UTC)
    try:
        async with sessionmaker.begin() as session:
            if not await database_is_empty(session):
                return False
            _add_demo_world(session, now)
    except IntegrityError:
        log.info("demo data already seeded by another process")
        return False
    log.info("demo data seeded")
    return True


Step = tuple[PracticeStatus, str | None, int]  # status, note, days before seeding


def _practice(
    practice_type: models.PracticeType,
    citizen: models.Citizen,
    protocol: tuple[int, int] | None,
    data: dict[str, Any],
    steps: list[Step],
    now: datetime,
) -> models.Practice:
    """A pratica whose status and timestamps follow its history."""
    history = [
        models.PracticeHistory(
            status=status.value, note=note, at=now - timedelta(days=ago)
        )
        for status, note, ago in steps
    ]
    return models.Practice(
        protocol_year=protocol[0] if protocol else None,
        protocol_number=protocol[1] if protocol else None,
        type=practice_type,
        citizen=citizen,
        status=steps[-1][0].value,
        data=data,
        created_at=history[0].at,
        updated_at=history[-1].at,
        history=history,
    )


def _tax(
    citizen: models.Citizen,
    tax_type: str,
    description: str,
    instalment: int,
    amount_cents: int,
    due_date: date,
    paid: bool,
    iuv: str,
    today: date,
) -> models.TaxPosition:
    """A tax instalment whose status follows from payment and due date."""
    if paid:
        status = TaxStatus.PAGATO
    else:
        status = TaxStatus.SCADUTO if due_date < today else TaxStatus.DA_PAGARE
    return models.TaxPosition(
        citizen=citizen,
        tax_type=tax_type,
        description=description,
        year=due_date.year,
        instalment=instalment,
        amount_cents=amount_cents,
        due_date=due_date,
        status=status.value,
        notice_number=notice_number(SEGREGATION_CODE, iuv),
    )


def _add_demo_world(session: AsyncSession, now: datetime) -> None:
    for service in COUNTER_SERVICES:
        session.add(models.CounterService(**service))
    types = {item["code"]: models.PracticeType(**item) for item in PRACTICE_TYPES}
    session.add_all(types.values())

    mario, giulia, anna = (
        models.Citizen(
            fiscal_code=citizen.fiscal_code,
            given_name=citizen.given_name,
            family_name=citizen.family_name,
            email=citizen.email,
            phone=citizen.phone,
            address=citizen.address,
            household_id=citizen.household_id,
            created_at=now,
        )
        for citizen in DEMO_CITIZENS
    )
    session.add_all([mario, giulia, anna])

    year = now.year
    P = PracticeStatus
    session.add_all(
        [
            _practice(
                types["certificato_residenza"],
                mario,
                (year, 118),
                {
                    "subject_fiscal_code": mario.fiscal_code,
                    "use": "in carta libera (esente)",
                },
                [
                    (P.PRESENTATA, None, 20),
                    (P.IN_ISTRUTTORIA, None, 19),
                    (P.ACCOLTA, "Certificato emesso e inviato per email.", 18),
                ],
                now,
            ),
            _practice(
                types["cila"],
                anna,
                (year, 119),
                {
                    "property_address": "Via Settevene Palo 12, Cerveteri",
                    "works_description": "Rifacimento bagno e impianti",
                },
                [
                    (P.PRESENTATA, None, 40),
                    (P.IN_ISTRUTTORIA, None, 38),
                    (P.RESPINTA, "L'intervento richiede un permesso di costruire.", 30),
                ],
                now,
            ),
            _practice(
                types["scia"],
                giulia,
                (year, 120),
                {
                    "property_address": "Via Roma 45, Cerveteri",
                    "works_description": "Consolidamento del solaio",
                },
                [
                    (P.PRESENTATA, None, 12),
                    (P.IN_ISTRUTTORIA, None, 10),
                    (
                        P.INTEGRAZIONE_RICHIESTA,
                        "Manca la relazione di calcolo strutturale: caricarla entro 30 giorni.",
                        3,
                    ),
                ],
                now,
            ),
            _practice(
                types["stato_famiglia"],
                anna,
                (year, 122),
                {"subject_fiscal_code": anna.fiscal_code, "use": "in bollo"},
                [(P.PRESENTATA, None, 1)],
                now,
            ),
            _practice(
                types["segnalazione"],
                mario,
                (year, 123),
                {
                    "category": "illuminazione",
                    "description": "Lampione spento davanti al civico 8",
                    "location": {"latitude": 41.9956, "longitude": 12.0986},
                },
                [
                    (P.PRESENTATA, None, 5),
                    (
                        P.IN_ISTRUTTORIA,
                        "Inoltrata alla manutenzione dell'illuminazione.",
                        4,
                    ),
                ],
                now,
            ),
            _practice(
                types["occupazione_suolo"],
                giulia,
                None,  # a bozza is not protocolled yet
                {"purpose": "trasloco", "address": "Piazza Santa Maria 3, Cerveteri"},
                [(P.BOZZA, None, 2)],
                now,
            ),
        ]
    )

    today = now.date()
    yy = f"{year % 100:02d}"
    tari, imu = "TARI – tassa sui rifiuti", "IMU – seconda casa"
    # Other dues the comune collects through pagoPA: an overdue canone unico and a school
    # canteen fee falling due in a few days (a payment reminder to show).
    cup = "Canone unico patrimoniale – passo carrabile, Via Aurelia 21"
    canteen = "Mensa scolastica – retta del trimestre"
    canteen_due = today + timedelta(days=4)
    # fmt: off
    session.add_all(
        [
            _tax(mario, "TARI", f"{tari}, 1ª rata", 1, 14350, date(year, 4, 16), True, f"{yy}00000000001", today),
            _tax(mario, "TARI", f"{tari}, 2ª rata", 2, 14350, date(year, 12, 16), False, f"{yy}00000000002", today),
            _tax(giulia, "TARI", f"{tari}, rata unica", 1, 21890, date(year, 12, 16), False, f"{yy}00000000003", today),
            _tax(giulia, "IMU", f"{imu}, acconto", 1, 41200, date(year, 6, 16), True, f"{yy}00000000004", today),
            _tax(giulia, "IMU", f"{imu}, saldo", 2, 41200, date(year, 12, 16), False, f"{yy}00000000005", today),
            _tax(anna, "TARI", f"{tari}, 1ª rata", 1, 9875, date(year, 4, 16), False, f"{yy}00000000006", today),
            _tax(anna, "TARI", f"{tari}, 2ª rata", 2, 9875, date(year, 12, 16), False, f"{yy}00000000007", today),
            _tax(mario, "CANONE_UNICO", cup, 1, 6000, date(year, 1, 31), False, f"{yy}00000000008", today),
            _tax(giulia, "MENSA", canteen, 1, 18600, canteen_due, False, f"{yy}00000000009", today),
        ]
    )
    # fmt: on
