"""Demo data for a fresh database: citizens, pratiche, taxes, counters and pratica types."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from codicefiscale import codicefiscale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.db import models
from backoffice.db.catalogue import COUNTER_SERVICES, PRACTICE_TYPES
from backoffice.db.models import PracticeStatus, TaxStatus
from backoffice.taxes.domain import notice_number
from sportello.clock import PROCESS_CLOCK

__all__ = ["COUNTER_SERVICES", "DEMO_CITIZENS", "PRACTICE_TYPES", "database_is_empty", "seed_demo_data"]

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
    now = now or PROCESS_CLOCK.now()
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


# The console's demo accounts, one per role (development only; the password is the user
# name followed by "-demo-2026", e.g. operatore-demo-2026).
DEMO_STAFF = (
    ("operatore", "Marco Bianchi", "operatore"),
    ("responsabile", "Laura Conti", "responsabile"),
    ("pubblicatore", "Sara Neri", "pubblicatore"),
    ("admin", "Paolo Ferri", "admin"),
)
DEMO_STAFF_PASSWORD_SUFFIX = "-demo-2026"


@functools.cache
def _demo_staff_hashes() -> dict[str, str]:
    # Hashed once per process: Argon2 is slow on purpose, and tests seed many databases.
    hasher = PasswordHasher()
    return {username: hasher.hash(username + DEMO_STAFF_PASSWORD_SUFFIX) for username, _, _ in DEMO_STAFF}


def _add_demo_staff(session: AsyncSession, now: datetime) -> None:
    hashes = _demo_staff_hashes()
    for username, name, role in DEMO_STAFF:
        session.add(
            models.StaffUser(
                username=username,
                display_name=name,
                role=role,
                password_hash=hashes[username],
                active=True,
                failed_logins=0,
                created_at=now,
            )
        )


def _add_demo_world(session: AsyncSession, now: datetime) -> None:
    _add_demo_staff(session, now)
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
