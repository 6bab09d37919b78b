"""Tax positions and their pagoPA notices: listing, issuing, the simulated checkout, reminders."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from fpdf import FPDF
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import models, schemas
from backoffice.capabilities import derive_key, sign_file_token, verify_file_token
from backoffice.certificates import ROME
from backoffice.errors import AlreadyPaid, Conflict, LinkExpired, NotFound
from backoffice.identity import mask_fiscal_code
from backoffice.models import TaxStatus
from backoffice.pagopa import NOTICE_NUMBER_LENGTH, is_valid_notice_number, notice_number
from backoffice.repositories import EventRepository

JSONObject = dict[str, Any]

# Aux digit 3: the comune (or its intermediary) runs more than one IUV generator, told
# apart by the segregation code.
AUX_DIGIT = "3"
QR_VERSION = "002"
CHECKOUT_TOKEN_BYTES = 24
# A checkout link works this long (CHECKOUT_LINK_HOURS); asking for the notice again in the
# chat gives a fresh link once the old one is gone or about to go.
CHECKOUT_LINK_VALIDITY = timedelta(hours=24)
CHECKOUT_REFRESH_MARGIN = timedelta(hours=1)
# A random IUV colliding with an existing one is left to chance; a few retries settle it.
ISSUE_ATTEMPTS = 3
# The feed may be read late (the bot was down): the receipt link in the event must outlive
# that. The link is the citizen's own proof of payment, sent only to the citizen's chats.
RECEIPT_LINK_VALIDITY = timedelta(days=7)
_RECEIPT_LABEL = b"sportello-digitale/receipts/v1"
_SEPARATORS = re.compile(r"[\s\-./]")


# --- pure helpers ---------------------------------------------------------------------


def position_status(stored: str, due_date: date, today: date) -> TaxStatus:
    """The status as of today: an unpaid instalment whose due date has passed is overdue."""
    if stored == TaxStatus.PAGATO:
        return TaxStatus.PAGATO
    return TaxStatus.SCADUTO if due_date < today else TaxStatus.DA_PAGARE


def qr_payload(number: str, payee_fiscal_code: str, amount_cents: int) -> str:
    """The text of a pagoPA notice's QR code: PAGOPA|002|<18>|<11>|<cents>."""
    return f"PAGOPA|{QR_VERSION}|{number}|{payee_fiscal_code}|{amount_cents}"


def new_notice_number(segregation_code: str, today: date) -> str:
    """A fresh codice avviso: aux digit 3, segregation code, a random 13-digit IUV, check digits.

    The IUV starts with the year's last two digits, as the seeded ones do, so an office
    reading it knows the year at a glance; the rest is random so it cannot be guessed.
    """
    iuv = f"{today.year % 100:02d}{secrets.randbelow(10**11):011d}"
    return notice_number(segregation_code, iuv, AUX_DIGIT)


def usable_notice_number(number: str | None) -> bool:
    """Whether a stored codice avviso can be handed out as it is (valid, aux digit 3)."""
    return (
        number is not None
        and number.startswith(AUX_DIGIT)
        and is_valid_notice_number(number)
    )


def normalise_notice_number(value: str) -> str:
    """Digits only: '3010 2600 0000 0001 23' as printed on paper is the same notice."""
    return _SEPARATORS.sub("", value)


def format_euro(cents: int) -> str:
    """Italian money format: 14350 -> '143,50 €'."""
    return str(format_currency(Decimal(cents).scaleb(-2), "EUR", locale="it_IT"))


def format_notice_number(number: str) -> str:
    """In groups of four, as printed on a pagoPA notice: 3010 2600 0000 0001 23."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _receipt_key(secret: str) -> str:
    # Receipt links reuse the file links' token format under a key of their own, so a
    # certificate's token never opens a receipt, nor the other way round.
    return derive_key(secret, _RECEIPT_LABEL).hex()


def sign_receipt_token(
    secret: str,
    receipt_id: int,
    now: datetime,
    validity: timedelta = RECEIPT_LINK_VALIDITY,
) -> str:
    """A token letting its holder download a receipt until now + validity."""
    return sign_file_token(_receipt_key(secret), receipt_id, now, validity)


def verify_receipt_token(secret: str, token: str, now: datetime) -> int:
    """The receipt id of a genuine, unexpired token; NotFound or LinkExpired otherwise."""
    return verify_file_token(_receipt_key(secret), token, now).document_id


# --- plain data objects ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payee:
    """Who the notices are payable to: the comune, as pagoPA knows it."""

    name: str  # "Comune di Cerveteri"
    fiscal_code: str  # 11 digits
    segregation_code: str  # 2 digits


@dataclass(frozen=True, slots=True)
class TaxPosition:
    """One instalment a citizen owes or paid, with its status as of today."""

    id: int
    tax_type: str
    description: str
    year: int
    instalment: int
    amount_cents: int
    due_date: date
    status: str
    notice_number: str | None

    @property
    def payable(self) -> bool:
        return self.status != TaxStatus.PAGATO and self.amount_cents > 0

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "tax_type": self.tax_type,
            "description": self.description,
            "year": self.year,
            "instalment": self.instalment,
            "amount_cents": self.amount_cents,
            "due_date": self.due_date.isoformat(),
            "status": self.status,
            "notice_number": self.notice_number,
            "payable": self.payable,
        }


@dataclass(frozen=True, slots=True)
class PaymentNotice:
    """A pagoPA notice: what the citizen pays with, by QR code, notice number or checkout."""

    position_id: int
    notice_number: str
    payee_name: str
    payee_fiscal_code: str
    amount_cents: int
    due_date: date
    description: str
    tax_type: str
    status: str
    checkout_token: str

    @property
    def qr_payload(self) -> str:
        return qr_payload(self.notice_number, self.payee_fiscal_code, self.amount_cents)

    def to_json(self, checkout_url: str) -> JSONObject:
        return {
            "position_id": self.position_id,
            "notice_number": self.notice_number,
            "payee_name": self.payee_name,
            "payee_fiscal_code": self.payee_fiscal_code,
            "amount_cents": self.amount_cents,
            "due_date": self.due_date.isoformat(),
            "description": self.description,
            "tax_type": self.tax_type,
            "status": self.status,
            "qr_payload": self.qr_payload,
            "checkout_url": checkout_url,
        }


@dataclass(frozen=True, slots=True)
class Receipt:
    """The receipt of a paid notice."""

    receipt_id: int
    receipt_number: str
    amount_cents: int
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class Checkout:
    """What the checkout page shows: the notice and, once paid, its receipt."""

    notice: PaymentNotice
    receipt: Receipt | None
    # The link's time is over: it shows nothing and pays nothing (a paid notice still
    # says so).
    expired: bool = False

    @property
    def paid(self) -> bool:
        return self.notice.status == TaxStatus.PAGATO


# --- the repository -------------------------------------------------------------------


class PaymentRepository:
    """Tax positions, their notices and receipts, and the citizen's reminder choice."""

    def __init__(
        self,
        session: AsyncSession,
        checkout_validity: timedelta = CHECKOUT_LINK_VALIDITY,
    ) -> None:
        self._session = session
        self._checkout_validity = checkout_validity

    async def positions(self, citizen_id: int, today: date) -> list[TaxPosition]:
        """A citizen's positions, soonest due first."""
        rows = await self._session.scalars(
            select(models.TaxPosition)
            .where(models.TaxPosition.citizen_id == citizen_id)
            .order_by(models.TaxPosition.due_date, models.TaxPosition.id)
        )
        return [_position(row, today) for row in rows]

    async def issue(
        self, citizen_id: int, position_id: int, payee: Payee, today: date, now: datetime
    ) -> PaymentNotice:
        """Issue the notice of one's own position and commit, or return the one issued.

        Concurrent requests race on the notice's unique position: the loser rolls back and
        reads the winner's notice. NotFound for someone else's position, AlreadyPaid.
        """
        for _ in range(ISSUE_ATTEMPTS):
            position = await self._own_position(citizen_id, position_id)
            if position.status == TaxStatus.PAGATO:
                raise AlreadyPaid()
            issued = await self._notice_of(position.id)
            if issued is not None:
                await self._fresh_checkout(issued, now)
                return _notice(issued, position, payee, today)
            # A notice the comune already sent (on paper, say) keeps its number.
            number = (
                position.notice_number
                if usable_notice_number(position.notice_number)
                else new_notice_number(payee.segregation_code, today)
            )
            assert number is not None
            row = models.PaymentNotice(
                position_id=position.id,
                notice_number=number,
                payee_fiscal_code=payee.fiscal_code,
                amount_cents=position.amount_cents,
                due_date=position.due_date,
                checkout_token=secrets.token_urlsafe(CHECKOUT_TOKEN_BYTES),
                checkout_expires_at=now + self._checkout_validity,
                created_at=now,
            )
            self._session.add(row)
            position.notice_number = number
            try:
                await self._session.flush()
            except IntegrityError:
                # Another request issued it first, or (rarely) the random IUV is taken.
                await self._session.rollback()
                continue
            notice = _notice(row, position, payee, today)
            await self._session.commit()
            return notice
        raise Conflict("the notice could not be issued, retry")

    async def notice_by_number(
        self, citizen_id: int, number: str, payee: Payee, today: date, now: datetime
    ) -> PaymentNotice:
        """One's own notice by its codice avviso; NotFound for anyone else's, AlreadyPaid.

        A number the comune sent before any notice was recorded here (the seeded ones, a
        paper notice) is recorded now, as issuing it would.
        """
        number = normalise_notice_number(number)
        if len(number) != NOTICE_NUMBER_LENGTH or not number.isdigit():
            raise NotFound("no such notice")
        issued = await self._session.scalar(
            select(models.PaymentNotice)
            .join(models.TaxPosition)
            .where(
                models.PaymentNotice.notice_number == number,
                models.TaxPosition.citizen_id == citizen_id,
            )
        )
        if issued is not None:
            position = await self._session.get_one(
                models.TaxPosition, issued.position_id
            )
            if position.status == TaxStatus.PAGATO:
                raise AlreadyPaid()
            await self._fresh_checkout(issued, now)
            return _notice(issued, position, payee, today)
        position_id = await self._session.scalar(
            select(models.TaxPosition.id).where(
                models.TaxPosition.notice_number == number,
                models.TaxPosition.citizen_id == citizen_id,
            )
        )
        if position_id is None:
            raise NotFound("no such notice")
        return await self.issue(citizen_id, position_id, payee, today, now)

    async def _fresh_checkout(self, row: models.PaymentNotice, now: datetime) -> None:
        """Give the notice a new checkout link if its own is gone or about to go; commit.

        The old token stops working. Two requests at once: the conditional update lets one
        replace the link, the other reads it.
        """
        expires = row.checkout_expires_at
        if expires is not None and expires > now + CHECKOUT_REFRESH_MARGIN:
            return
        old_token = row.checkout_token
        replaced = await self._session.execute(
            update(models.PaymentNotice)
            .where(
                models.PaymentNotice.id == row.id,
                models.PaymentNotice.checkout_token == old_token,
            )
            .values(
                checkout_token=secrets.token_urlsafe(CHECKOUT_TOKEN_BYTES),
                checkout_expires_at=now + self._checkout_validity,
            )
            .execution_options(synchronize_session=False)
        )
        if replaced.rowcount == 1:  # type: ignore[attr-defined]
            await self._session.commit()
        await self._session.refresh(row)

    async def checkout(
        self, token: str, payee: Payee, today: date, now: datetime
    ) -> Checkout:
        """The notice behind a checkout token and its receipt, if paid; NotFound.

        `expired` when the link's time is over.
        """
        row = await self._session.scalar(
            select(models.PaymentNotice).where(
                models.PaymentNotice.checkout_token == token
            )
        )
        if row is None:
            raise NotFound("no such checkout")
        position = await self._session.get_one(models.TaxPosition, row.position_id)
        receipt = await self._session.scalar(
            select(models.PaymentReceipt).where(
                models.PaymentReceipt.notice_id == row.id
            )
        )
        return Checkout(
            notice=_notice(row, position, payee, today),
            receipt=_receipt(receipt) if receipt is not None else None,
            expired=row.checkout_expires_at is None or row.checkout_expires_at <= now,
        )

    async def pay(
        self,
        token: str,
        payee: Payee,
        now: datetime,
        receipt_url: Callable[[int], str],
    ) -> tuple[Checkout, bool]:
        """Pay the notice behind a checkout token and commit; say whether this call paid it.

        Paid once only: the position moves to pagato by one conditional update, so of two
        payments racing only one records a receipt and tells the citizen. LinkExpired for
        an unpaid notice whose link's time is over.
        """
        today = now.astimezone(ROME).date()
        found = await self.checkout(token, payee, today, now)
        if found.paid:
            return found, False
        if found.expired:
            raise LinkExpired("this checkout link has expired")
        position = await self._session.get_one(
            models.TaxPosition, found.notice.position_id
        )
        moved = await self._session.execute(
            update(models.TaxPosition)
            .where(
                models.TaxPosition.id == position.id,
                models.TaxPosition.status != TaxStatus.PAGATO.value,
            )
            .values(status=TaxStatus.PAGATO.value)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            await self._session.rollback()
            return await self.checkout(token, payee, today, now), False
        notice_id = await self._session.scalar(
            select(models.PaymentNotice.id).where(
                models.PaymentNotice.checkout_token == token
            )
        )
        assert notice_id is not None
        row = models.PaymentReceipt(
            notice_id=notice_id,
            receipt_number=_new_receipt_number(now),
            amount_cents=found.notice.amount_cents,
            paid_at=now,
            channel="checkout",
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError:
            # Already paid once, then reopened by the office: the first receipt stands.
            await self._session.rollback()
            return await self.checkout(token, payee, today, now), False
        notice = found.notice
        await EventRepository(self._session).append(
            "payment_received",
            {
                "position_id": notice.position_id,
                "notice_number": notice.notice_number,
                "description": notice.description,
                "tax_type": notice.tax_type,
                "amount_cents": row.amount_cents,
                "paid_at": row.paid_at.isoformat(),
                "receipt_number": row.receipt_number,
                "receipt_url": receipt_url(row.id),
            },
            citizen_id=position.citizen_id,
        )
        await self._session.commit()
        paid = replace(notice, status=TaxStatus.PAGATO.value)
        return Checkout(notice=paid, receipt=_receipt(row)), True

    async def receipt_file(self, receipt_id: int, payee: Payee) -> schemas.StoredFile:
        """A receipt as a PDF; NotFound if there is no such receipt."""
        row = await self._session.get(models.PaymentReceipt, receipt_id)
        if row is None:
            raise NotFound("no such file")
        notice = await self._session.get_one(models.PaymentNotice, row.notice_id)
        position = await self._session.get_one(models.TaxPosition, notice.position_id)
        citizen = await self._session.get_one(models.Citizen, position.citizen_id)
        pdf = render_receipt(
            ReceiptContent(
                payee_name=payee.name,
                payee_fiscal_code=notice.payee_fiscal_code,
                payer=f"{citizen.given_name} {citizen.family_name}",
                payer_fiscal_code_masked=mask_fiscal_code(citizen.fiscal_code),
                description=position.description,
                notice_number=notice.notice_number,
                amount_cents=row.amount_cents,
                paid_at=row.paid_at,
                receipt_number=row.receipt_number,
            )
        )
        return schemas.StoredFile(
            filename=f"ricevuta-pagopa-{notice.notice_number}.pdf",
            content_type="application/pdf",
            content=pdf,
        )

    async def set_tax_reminders(self, citizen_id: int, enabled: bool) -> None:
        await self._session.execute(
            update(models.Citizen)
            .where(models.Citizen.id == citizen_id)
            .values(tax_reminders=enabled)
            .execution_options(synchronize_session=False)
        )

    async def _own_position(
        self, citizen_id: int, position_id: int
    ) -> models.TaxPosition:
        position = await self._session.scalar(
            select(models.TaxPosition).where(
                models.TaxPosition.id == position_id,
                models.TaxPosition.citizen_id == citizen_id,
            )
        )
        if position is None:
            # Someone else's position answers exactly as a missing one.
            raise NotFound("no such tax position")
        return position

    async def _notice_of(self, position_id: int) -> models.PaymentNotice | None:
        return await self._session.scalar(
            select(models.PaymentNotice).where(
                models.PaymentNotice.position_id == position_id
            )
        )


async def send_payment_reminders(
    session: AsyncSession,
    today: date,
    within_days: int = 5,
    now: datetime | None = None,
) -> int:
    """Append one payment_reminder event per unpaid position due in the next days; the caller commits.

    Only for citizens linked to a chat who want reminders, and once per position: the
    position is marked by a conditional update, so two runs at once cannot both remind.
    Returns how many reminders were queued.
    """
    now = now or datetime.now(UTC)
    linked = exists().where(models.ChannelLink.citizen_id == models.Citizen.id)
    rows = list(
        await session.scalars(
            select(models.TaxPosition)
            .join(models.Citizen)
            .where(
                models.Citizen.tax_reminders.is_(True),
                linked,
                models.TaxPosition.status != TaxStatus.PAGATO.value,
                models.TaxPosition.reminded_at.is_(None),
                models.TaxPosition.due_date >= today,
                models.TaxPosition.due_date <= today + timedelta(days=within_days),
            )
            .order_by(models.TaxPosition.due_date, models.TaxPosition.id)
        )
    )
    events = EventRepository(session)
    queued = 0
    for position in rows:
        marked = await session.execute(
            update(models.TaxPosition)
            .where(
                models.TaxPosition.id == position.id,
                models.TaxPosition.reminded_at.is_(None),
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            continue
        await events.append(
            "payment_reminder",
            {
                "position_id": position.id,
                "description": position.description,
                "tax_type": position.tax_type,
                "amount_cents": position.amount_cents,
                "due_date": position.due_date.isoformat(),
                "notice_number": position.notice_number
                if usable_notice_number(position.notice_number)
                else None,
            },
            citizen_id=position.citizen_id,
        )
        queued += 1
    return queued


def _position(row: models.TaxPosition, today: date) -> TaxPosition:
    return TaxPosition(
        id=row.id,
        tax_type=row.tax_type,
        description=row.description,
        year=row.year,
        instalment=row.instalment,
        amount_cents=row.amount_cents,
        due_date=row.due_date,
        status=position_status(row.status, row.due_date, today).value,
        notice_number=row.notice_number
        if usable_notice_number(row.notice_number)
        else None,
    )


def _notice(
    row: models.PaymentNotice, position: models.TaxPosition, payee: Payee, today: date
) -> PaymentNotice:
    return PaymentNotice(
        position_id=position.id,
        notice_number=row.notice_number,
        payee_name=payee.name,
        payee_fiscal_code=row.payee_fiscal_code,
        amount_cents=row.amount_cents,
        due_date=row.due_date,
        description=position.description,
        tax_type=position.tax_type,
        status=position_status(position.status, row.due_date, today).value,
        checkout_token=row.checkout_token,
    )


def _receipt(row: models.PaymentReceipt) -> Receipt:
    return Receipt(
        receipt_id=row.id,
        receipt_number=row.receipt_number,
        amount_cents=row.amount_cents,
        paid_at=row.paid_at,
    )


def _new_receipt_number(now: datetime) -> str:
    """An IUR as a payment service would assign it: the day and a random part."""
    return f"{now.astimezone(ROME):%Y%m%d}{secrets.token_hex(6).upper()}"


# --- the receipt as a PDF -------------------------------------------------------------

# The PDF core fonts speak Latin-1: what is outside it is written plainly.
_PLAIN = str.maketrans({"–": "-", "—": "-", "’": "'", "€": "EUR", "ª": "a"})


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    """Everything a receipt prints."""

    payee_name: str
    payee_fiscal_code: str
    payer: str
    # Masked as everywhere the chat carries it: the receipt goes to the chat.
    payer_fiscal_code_masked: str
    description: str
    notice_number: str
    amount_cents: int
    paid_at: datetime
    receipt_number: str


def render_receipt(content: ReceiptContent) -> bytes:
    """Lay the receipt out on one A4 page and return the PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title("Ricevuta di pagamento pagoPA")
    pdf.set_author(_latin1(content.payee_name))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()

    def line(text: str, size: int = 11, style: str = "", height: float = 7) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    line(content.payee_name, 18, "B", 9)
    line(f"Codice fiscale ente {content.payee_fiscal_code}", 10)
    pdf.ln(10)
    line("RICEVUTA DI PAGAMENTO pagoPA", 15, "B", 10)
    pdf.ln(6)
    paid = content.paid_at.astimezone(ROME)
    for label, value in (
        ("Oggetto", content.description),
        ("Pagatore", f"{content.payer} ({content.payer_fiscal_code_masked})"),
        ("Codice avviso", format_notice_number(content.notice_number)),
        ("Codice IUV", content.notice_number[1:]),
        ("Importo pagato", format_euro(content.amount_cents)),
        ("Data e ora", f"{paid:%d/%m/%Y %H:%M}"),
        ("Identificativo riscossione (IUR)", content.receipt_number),
        ("Canale", "pagoPA Checkout"),
    ):
        line(f"{label}: {value}")
    pdf.ln(12)
    line(
        "Ricevuta emessa dal servizio di pagamento simulato di Sportello Digitale: "
        "in esercizio fa fede la ricevuta telematica di pagoPA.",
        8,
        "I",
        5,
    )
    return bytes(pdf.output())
