"""Tributi use cases: list what one owes, issue a notice, find one by number, the checkout
(show, pay), a receipt's PDF, the reminder choice and the reminders' run.

Each owns its unit of work. A notice's checkout link that is gone or about to go is replaced
(and committed) whenever the notice is given again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from backoffice import schemas
from backoffice.db import UnitOfWork, models
from backoffice.db.models import TaxStatus
from backoffice.errors import Conflict, LinkExpired, NotFound
from backoffice.events.repository import EventRepository
from backoffice.identity.domain import ChannelUser, mask_fiscal_code
from backoffice.identity.schemas import LinkedCitizen
from backoffice.identity.services import require_linked
from backoffice.taxes import domain
from backoffice.taxes.domain import AlreadyPaid
from backoffice.taxes.receipt import ReceiptContent, render_receipt
from backoffice.taxes.repository import TaxRepository, notice
from backoffice.taxes.schemas import Checkout, Payee, PaymentNotice, TaxPosition
from sportello.clock import ROME


async def list_positions(uow: UnitOfWork, user: ChannelUser, today: date) -> list[TaxPosition]:
    """The linked citizen's positions, soonest due first, with their status as of today."""
    async with uow:
        citizen = await require_linked(uow.session, user)
        return await TaxRepository(uow.session).positions(citizen.citizen_id, today)


async def issue_notice(
    uow: UnitOfWork,
    user: ChannelUser,
    position_id: int,
    payee: Payee,
    today: date,
    now: datetime,
    checkout_validity: timedelta,
) -> PaymentNotice:
    """Issue the notice of one's own position, or give the one issued; NotFound, AlreadyPaid."""
    async with uow:
        citizen = await require_linked(uow.session, user)
        return await _issue(uow, citizen.citizen_id, position_id, payee, today, now, checkout_validity)


async def notice_by_number(
    uow: UnitOfWork,
    user: ChannelUser,
    number: str,
    payee: Payee,
    today: date,
    now: datetime,
    checkout_validity: timedelta,
) -> PaymentNotice:
    """One's own notice by its codice avviso; NotFound for anyone else's, AlreadyPaid.

    A number the comune sent before any notice was recorded here (the seeded ones, a
    paper notice) is recorded now, as issuing it would.
    """
    number = domain.normalise_notice_number(number)
    async with uow:
        citizen = await require_linked(uow.session, user)
        if len(number) != domain.NOTICE_NUMBER_LENGTH or not number.isdigit():
            raise NotFound("no such notice")
        taxes = TaxRepository(uow.session)
        issued = await taxes.own_notice(citizen.citizen_id, number)
        if issued is not None:
            position = await taxes.position_row(issued.position_id)
            if position.status == TaxStatus.PAGATO:
                raise AlreadyPaid()
            await _fresh_checkout(uow, issued, now, checkout_validity)
            return notice(issued, position, payee, today)
        position_id = await taxes.own_position_id_by_number(citizen.citizen_id, number)
        if position_id is None:
            raise NotFound("no such notice")
        return await _issue(uow, citizen.citizen_id, position_id, payee, today, now, checkout_validity)


async def _issue(
    uow: UnitOfWork,
    citizen_id: int,
    position_id: int,
    payee: Payee,
    today: date,
    now: datetime,
    checkout_validity: timedelta,
) -> PaymentNotice:
    # Concurrent requests race on the notice's unique position: the loser rolls back and
    # reads the winner's notice.
    taxes = TaxRepository(uow.session)
    for _ in range(domain.ISSUE_ATTEMPTS):
        position = await taxes.own_position(citizen_id, position_id)
        if position is None:
            # Someone else's position answers exactly as a missing one.
            raise NotFound("no such tax position")
        if position.status == TaxStatus.PAGATO:
            raise AlreadyPaid()
        issued = await taxes.notice_of(position.id)
        if issued is not None:
            await _fresh_checkout(uow, issued, now, checkout_validity)
            return notice(issued, position, payee, today)
        # A notice the comune already sent (on paper, say) keeps its number.
        number = (
            position.notice_number
            if domain.usable_notice_number(position.notice_number)
            else domain.new_notice_number(payee.segregation_code, today)
        )
        assert number is not None
        row = await taxes.add_notice(
            position, number, payee.fiscal_code, domain.new_checkout_token(), now + checkout_validity, now
        )
        if row is None:
            # Another request issued it first, or (rarely) the random IUV is taken.
            await uow.rollback()
            continue
        issued_notice = notice(row, position, payee, today)
        await uow.commit()
        return issued_notice
    raise Conflict("the notice could not be issued, retry")


async def _fresh_checkout(
    uow: UnitOfWork, row: models.PaymentNotice, now: datetime, validity: timedelta
) -> None:
    """A new checkout link if the notice's own is gone or about to go (the old one stops
    working). Two requests at once: one replaces the link, the other reads it."""
    if not domain.checkout_needs_refresh(row.checkout_expires_at, now):
        return
    taxes = TaxRepository(uow.session)
    if await taxes.replace_checkout(row, domain.new_checkout_token(), now + validity):
        await uow.commit()
    await taxes.reload(row)


async def _checkout(taxes: TaxRepository, token: str, payee: Payee, today: date, now: datetime) -> Checkout:
    row = await taxes.notice_by_token(token)
    if row is None:
        raise NotFound("no such checkout")
    position = await taxes.position_row(row.position_id)
    return Checkout(
        notice=notice(row, position, payee, today),
        receipt=await taxes.receipt_of(row.id),
        expired=row.checkout_expires_at is None or row.checkout_expires_at <= now,
    )


async def checkout(uow: UnitOfWork, token: str, payee: Payee, today: date, now: datetime) -> Checkout:
    """The notice behind a checkout token and its receipt, if paid; NotFound.

    `expired` when the link's time is over.
    """
    async with uow:
        return await _checkout(TaxRepository(uow.session), token, payee, today, now)


async def pay(
    uow: UnitOfWork, token: str, payee: Payee, now: datetime, receipt_url: Callable[[int], str]
) -> tuple[Checkout, bool]:
    """Pay the notice behind a checkout token; say whether this call paid it.

    Paid once only: the position moves to pagato by one conditional update, so of two
    payments racing only one records a receipt and tells the citizen. LinkExpired for
    an unpaid notice whose link's time is over.
    """
    today = now.astimezone(ROME).date()
    async with uow:
        taxes = TaxRepository(uow.session)
        found = await _checkout(taxes, token, payee, today, now)
        if found.paid:
            return found, False
        if found.expired:
            raise LinkExpired("this checkout link has expired")
        position = await taxes.position_row(found.notice.position_id)
        if not await taxes.mark_paid(position.id):
            await uow.rollback()
            return await _checkout(taxes, token, payee, today, now), False
        row = await taxes.notice_by_token(token)
        assert row is not None
        receipt = await taxes.add_receipt(
            row.id, domain.new_receipt_number(now), found.notice.amount_cents, now
        )
        if receipt is None:
            # Already paid once, then reopened by the office: the first receipt stands.
            await uow.rollback()
            return await _checkout(taxes, token, payee, today, now), False
        paid = found.notice
        await EventRepository(uow.session).append(
            "payment_received",
            {
                "position_id": paid.position_id,
                "notice_number": paid.notice_number,
                "description": paid.description,
                "tax_type": paid.tax_type,
                "amount_cents": receipt.amount_cents,
                "paid_at": receipt.paid_at.isoformat(),
                "receipt_number": receipt.receipt_number,
                "receipt_url": receipt_url(receipt.receipt_id),
            },
            citizen_id=position.citizen_id,
        )
        await uow.commit()
    return Checkout(notice=replace(paid, status=TaxStatus.PAGATO.value), receipt=receipt), True


async def receipt_file(uow: UnitOfWork, receipt_id: int, payee: Payee) -> schemas.StoredFile:
    """A receipt as a PDF; NotFound if there is no such receipt."""
    async with uow:
        parts = await TaxRepository(uow.session).receipt_parts(receipt_id)
        if parts is None:
            raise NotFound("no such file")
        row, issued, position, citizen = parts
        content = ReceiptContent(
            payee_name=payee.name,
            payee_fiscal_code=issued.payee_fiscal_code,
            payer=f"{citizen.given_name} {citizen.family_name}",
            payer_fiscal_code_masked=mask_fiscal_code(citizen.fiscal_code),
            description=position.description,
            notice_number=issued.notice_number,
            amount_cents=row.amount_cents,
            paid_at=row.paid_at,
            receipt_number=row.receipt_number,
        )
    return schemas.StoredFile(
        filename=f"ricevuta-pagopa-{content.notice_number}.pdf",
        content_type="application/pdf",
        content=render_receipt(content),
    )


async def set_tax_reminders(uow: UnitOfWork, user: ChannelUser, enabled: bool) -> LinkedCitizen:
    """Choose whether the chat reminds the citizen of payments falling due."""
    async with uow:
        citizen = await require_linked(uow.session, user)
        await TaxRepository(uow.session).set_tax_reminders(citizen.citizen_id, enabled)
        await uow.commit()
    return replace(citizen, tax_reminders=enabled)


async def send_payment_reminders(uow: UnitOfWork, today: date, within_days: int, now: datetime) -> int:
    """One payment_reminder event per unpaid position due in the next days; how many.

    Only for citizens linked to a chat who want reminders, and once per position: the
    position is marked by a conditional update, so two runs at once cannot both remind.
    """
    async with uow:
        taxes, events = TaxRepository(uow.session), EventRepository(uow.session)
        queued = 0
        for position in await taxes.due_unreminded(today, within_days):
            if not await taxes.mark_reminded(position.id, now):
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
                    if domain.usable_notice_number(position.notice_number)
                    else None,
                },
                citizen_id=position.citizen_id,
            )
            queued += 1
        await uow.commit()
    return queued
