"""Use cases of the cruscotto: the figures of a period, for the staff, as CSV, as open data."""

from __future__ import annotations

from backoffice.analytics import domain, export, period
from backoffice.analytics.repository import AnalyticsRepository, ExternalStores
from backoffice.analytics.schemas import Figures, Period
from backoffice.appointments.domain import ClosedDays
from backoffice.db import UnitOfWork
from backoffice.schemas import JSONObject


async def figures(uow: UnitOfWork, stores: ExternalStores, closed_days: ClosedDays, span: Period) -> Figures:
    """Every figure of the period. The back office's own tables are read in one unit of work;
    Rasa's history and the handoff tickets each from their store, None if it cannot be read."""
    start, end = period.bounds(span)
    async with uow:
        repo = AnalyticsRepository(uow.session)
        practices = await repo.practices_filed(start, end)
        hours = await repo.office_hours()
    events = await stores.tracker_events(start, end)
    tickets = await stores.handoff_tickets(start, end)
    open_at = None if hours is None else (lambda at: hours.open_at(at, closed_days))
    return domain.figures(span, events, tickets, practices, open_at)


async def export_csv(uow: UnitOfWork, stores: ExternalStores, closed_days: ClosedDays, span: Period) -> str:
    """The period's figures as CSV (';', decimal comma): one row per day per figure."""
    return export.csv_text(await figures(uow, stores, closed_days, span))


async def open_data(uow: UnitOfWork, stores: ExternalStores, closed_days: ClosedDays, span: Period) -> JSONObject:
    """The period's counts and rates, with no message text and no identifier."""
    return (await figures(uow, stores, closed_days, span)).open_data()
