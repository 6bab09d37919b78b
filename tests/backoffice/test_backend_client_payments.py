"""The typed client's tributi and pagoPA calls, against the real back office."""

from __future__ import annotations

from datetime import date, timedelta

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client import (
    AlreadyPaid,
    BackOfficeClient,
    Conflict,
    NotFound,
    NotLinked,
    PaymentNotice,
    TaxPosition,
)
from backoffice.db import create_sessionmaker, models
from backoffice.db.seed import DEMO_CITIZENS
from backoffice.taxes.domain import is_valid_notice_number

MARIO, GIULIA, ANNA = (citizen.fiscal_code for citizen in DEMO_CITIZENS)


async def _link(client: BackOfficeClient, channel_user: str, fiscal_code: str) -> None:
    code = await client.identity.create_link_code(fiscal_code)
    await client.identity.link(channel_user, code.code)


async def test_the_client_lists_taxes_issues_and_finds_notices(
    backoffice_client: BackOfficeClient,
) -> None:
    user = "telegram:51"
    await _link(backoffice_client, user, GIULIA)

    positions = await backoffice_client.taxes.mine(user)

    assert positions and all(isinstance(p, TaxPosition) for p in positions)
    assert {p.tax_type for p in positions} >= {"TARI", "IMU", "MENSA"}
    payable = next(p for p in positions if p.payable)
    notice = await backoffice_client.taxes.issue_notice(user, payable.id)
    assert isinstance(notice, PaymentNotice)
    assert is_valid_notice_number(notice.notice_number)
    assert notice.amount_cents == payable.amount_cents
    assert notice.due_date == payable.due_date
    assert notice.qr_payload == (
        f"PAGOPA|002|{notice.notice_number}|{notice.payee_fiscal_code}|{notice.amount_cents}"
    )
    assert not notice.paid
    assert await backoffice_client.taxes.issue_notice(user, payable.id) == notice
    assert await backoffice_client.taxes.notice(user, notice.notice_number) == notice


async def test_client_errors_for_taxes_are_typed(
    backoffice_client: BackOfficeClient,
) -> None:
    with pytest.raises(NotLinked):
        await backoffice_client.taxes.mine("telegram:52")
    await _link(backoffice_client, "telegram:53", MARIO)
    paid = next(
        p
        for p in await backoffice_client.taxes.mine("telegram:53")
        if p.status == "pagato"
    )

    with pytest.raises(AlreadyPaid) as raised:
        await backoffice_client.taxes.issue_notice("telegram:53", paid.id)
    assert isinstance(raised.value, Conflict) and raised.value.code == "already_paid"
    with pytest.raises(AlreadyPaid):
        await backoffice_client.taxes.notice("telegram:53", str(paid.notice_number))
    with pytest.raises(NotFound):
        await backoffice_client.taxes.issue_notice("telegram:53", 999_999)
    with pytest.raises(NotFound):
        await backoffice_client.taxes.notice("telegram:53", "301260000000999999")


async def test_paying_through_the_checkout_is_reported_in_the_feed_with_a_receipt(
    backoffice_client: BackOfficeClient, client_session: aiohttp.ClientSession
) -> None:
    user = "telegram:54"
    await _link(backoffice_client, user, ANNA)
    position = next(p for p in await backoffice_client.taxes.mine(user) if p.payable)
    notice = await backoffice_client.taxes.issue_notice(user, position.id)

    async with client_session.post(notice.checkout_url) as response:
        assert response.status == 200

    page = await backoffice_client.events.page()
    [event] = [e for e in page.events if e.type == "payment_received"]
    assert event.recipients == (user,)
    assert event.payload["notice_number"] == notice.notice_number
    receipt = await backoffice_client.download(event.payload["receipt_url"])
    assert receipt.startswith(b"%PDF")
    with pytest.raises(AlreadyPaid):
        await backoffice_client.taxes.notice(user, notice.notice_number)


async def test_the_client_sets_reminder_preferences_and_runs_the_reminders(
    backoffice_client: BackOfficeClient, seeded_engine: AsyncEngine
) -> None:
    user = "telegram:55"
    await _link(backoffice_client, user, GIULIA)
    assert (await backoffice_client.identity.me(user)).tax_reminders is True
    due = date(2031, 6, 1)
    async with create_sessionmaker(seeded_engine).begin() as session:
        await session.execute(update(models.TaxPosition).values(due_date=due))

    off = await backoffice_client.identity.set_preferences(user, tax_reminders=False)
    assert off.tax_reminders is False and off.given_name == "Giulia"
    assert await backoffice_client.taxes.run_reminders(due - timedelta(days=1)) == 0

    await backoffice_client.identity.set_preferences(user, tax_reminders=True)
    unpaid = [
        p for p in await backoffice_client.taxes.mine(user) if p.status != "pagato"
    ]
    assert await backoffice_client.taxes.run_reminders(
        due - timedelta(days=1)
    ) == len(unpaid)
    assert await backoffice_client.taxes.run_reminders(due) == 0
    assert await backoffice_client.taxes.run_reminders() == 0
    with pytest.raises(NotLinked):
        await backoffice_client.identity.set_preferences("telegram:56", tax_reminders=True)
