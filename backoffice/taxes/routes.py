"""HTTP of tributi and pagoPA: the citizen's positions and notices, the checkout pages, reminders."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from backoffice.appkeys import CLOCK, SESSIONMAKER, SETTINGS
from backoffice.db.uow import UnitOfWork
from backoffice.errors import InvalidRequest, LinkExpired, NotFound
from backoffice.http.files import file_response
from backoffice.http.request import (
    base_url,
    channel_user,
    file_secret,
    json_object,
    now,
    public_base_url,
    today,
    unit_of_work,
)
from backoffice.jobs import run_periodically
from backoffice.taxes import services
from backoffice.taxes.domain import sign_receipt_token, verify_receipt_token
from backoffice.taxes.schemas import Checkout, Payee
from sportello.clock import ROME
from sportello.formatting import euro, grouped

log = logging.getLogger(__name__)

tax_routes = web.RouteTableDef()

# The first run waits a little, so a restarting process settles first (and tests that
# start a server for a few seconds never see a reminder they did not ask for).
REMINDER_FIRST_RUN_DELAY_SECONDS = 60.0


def payee(request: web.Request) -> Payee:
    settings = request.app[SETTINGS]
    return Payee(
        name=f"Comune di {settings.comune_name}",
        fiscal_code=settings.comune_fiscal_code,
        segregation_code=settings.pagopa_segregation_code,
    )


def checkout_url(request: web.Request, token: str) -> str:
    return f"{public_base_url(request)}/checkout/{token}"


def checkout_validity(request: web.Request) -> timedelta:
    return timedelta(hours=request.app[SETTINGS].checkout_link_hours)


def receipt_url(request: web.Request, public: bool = False) -> Callable[[int], str]:
    """Mint receipt download links: for the bot to fetch, or for a browser (`public`)."""
    base = public_base_url(request) if public else base_url(request)
    secret, at = file_secret(request), now(request)
    return lambda receipt_id: f"{base}/receipts/{sign_receipt_token(secret, receipt_id, at)}"


def _iso_date(raw: object) -> date:
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(raw)
    raise InvalidRequest("today must be a date, YYYY-MM-DD")


def _position_id(request: web.Request) -> int:
    raw = request.match_info["position_id"]
    if not raw.isdigit() or len(raw) > 9:  # beyond any INTEGER id
        raise NotFound("no such tax position")
    return int(raw)


# --- the citizen's positions and notices ----------------------------------------------


@tax_routes.get("/v1/taxes")
async def list_taxes(request: web.Request) -> web.Response:
    """The linked citizen's tax positions and other dues, with their status as of today."""
    positions = await services.list_positions(unit_of_work(request), channel_user(request), today(request))
    return web.json_response({"taxes": [item.to_json() for item in positions]})


@tax_routes.post("/v1/taxes/{position_id}/notice")
async def issue_notice(request: web.Request) -> web.Response:
    """Issue the pagoPA notice of one's own position, or return the one already issued."""
    user = channel_user(request)
    position_id = _position_id(request)
    notice = await services.issue_notice(
        unit_of_work(request), user, position_id, payee(request), today(request), now(request),
        checkout_validity(request),
    )
    return web.json_response(
        notice.to_json(checkout_url(request, notice.checkout_token))
    )


@tax_routes.get("/v1/notices/{notice_number}")
async def get_notice(request: web.Request) -> web.Response:
    """One's own notice by its codice avviso (as printed on a paper notice too)."""
    user = channel_user(request)
    notice = await services.notice_by_number(
        unit_of_work(request),
        user,
        request.match_info["notice_number"],
        payee(request),
        today(request),
        now(request),
        checkout_validity(request),
    )
    return web.json_response(
        notice.to_json(checkout_url(request, notice.checkout_token))
    )


@tax_routes.put("/v1/me/preferences")
async def set_preferences(request: web.Request) -> web.Response:
    """Choose whether the chat reminds the citizen of payments falling due."""
    user = channel_user(request)
    body = await json_object(request)
    enabled = body.get("tax_reminders")
    if not isinstance(enabled, bool):
        raise InvalidRequest("tax_reminders (true or false) is required")
    citizen = await services.set_tax_reminders(unit_of_work(request), user, enabled)
    return web.json_response(citizen.to_json())


# --- reminders ------------------------------------------------------------------------


@tax_routes.post("/v1/jobs/payment-reminders")
async def run_payment_reminders(request: web.Request) -> web.Response:
    """Queue the due reminders now (cron, tests); `today` may be given as YYYY-MM-DD."""
    day = today(request)
    if request.can_read_body:
        raw = (await json_object(request)).get("today")
        if raw is not None:
            day = _iso_date(raw)
    settings = request.app[SETTINGS]
    queued = await services.send_payment_reminders(
        unit_of_work(request), day, settings.payment_reminder_days, now(request)
    )
    return web.json_response({"queued": queued})


async def _queue_reminders(app: web.Application) -> None:
    at = app[CLOCK]()
    queued = await services.send_payment_reminders(
        UnitOfWork(app[SESSIONMAKER]), app[CLOCK].today(), app[SETTINGS].payment_reminder_days, at
    )
    if queued:
        log.info("queued %d payment reminders", queued)


async def payment_reminder_job(app: web.Application) -> AsyncIterator[None]:
    """Queue the reminders every PAYMENT_REMINDER_INTERVAL_SECONDS (hourly) while the app runs."""
    async with run_periodically(
        "payment reminders",
        partial(_queue_reminders, app),
        app[SETTINGS].payment_reminder_interval_seconds,
        first_delay=REMINDER_FIRST_RUN_DELAY_SECONDS,
        leases=app[SESSIONMAKER],
    ):
        yield


# --- public: the simulated pagoPA checkout and receipts -------------------------------


def _page(
    request: web.Request, template: str, status: int = 200, checkout: Checkout | None = None, **context: Any
) -> web.Response:
    """A pagoPA page from its template; with a checkout, the notice's details too."""
    if checkout is not None:
        notice = checkout.notice
        context.update(notice=notice, amount=euro(notice.amount_cents), notice_number=grouped(notice.notice_number))
    return aiohttp_jinja2.render_template(f"taxes/{template}", request, context, status=status)


def _paid(
    request: web.Request, checkout: Checkout, title: str, intro: str, status: int = 200, with_receipt: bool = False
) -> web.Response:
    """The paid notice; the receipt (the payer's name) only to whoever just paid."""
    receipt = checkout.receipt if with_receipt else None
    extra: dict[str, Any] = {"receipt": None, "receipt_url": None}
    if receipt is not None:
        extra = {
            "receipt": {"paid_at": receipt.paid_at.astimezone(ROME), "receipt_number": receipt.receipt_number},
            "receipt_url": receipt_url(request, public=True)(receipt.receipt_id),
        }
    return _page(request, "paid.html", status, checkout, title=title, intro=intro, **extra)


@tax_routes.get("/checkout/{token}")
async def checkout_page(request: web.Request) -> web.Response:
    """The checkout page of a notice: what is paid to whom, and a 'Paga ora' button."""
    try:
        checkout = await services.checkout(
            unit_of_work(request), request.match_info["token"], payee(request), today(request), now(request)
        )
    except NotFound:
        return _page(request, "not_found.html", 404)
    if checkout.paid:
        # Once paid the link opens nothing more: no form, no receipt (that is in the chat).
        return _paid(
            request,
            checkout,
            "Avviso già pagato",
            "Questo avviso risulta già pagato: non c'è altro da pagare. "
            "La ricevuta ti è arrivata nella chat del Comune.",
        )
    if checkout.expired:
        return _page(request, "expired.html", 410)
    return _page(request, "checkout.html", checkout=checkout)


@tax_routes.post("/checkout/{token}")
async def pay_checkout(request: web.Request) -> web.Response:
    """Pay the notice (simulated: it always succeeds); a second payment is refused."""
    try:
        checkout, paid_now = await services.pay(
            unit_of_work(request), request.match_info["token"], payee(request), now(request), receipt_url(request)
        )
    except NotFound:
        return _page(request, "not_found.html", 404)
    except LinkExpired:
        return _page(request, "expired.html", 410)
    if not paid_now:
        return _paid(
            request,
            checkout,
            "Avviso già pagato",
            "Questo avviso risulta già pagato: non ti abbiamo addebitato nulla.",
            409,
        )
    return _paid(
        request,
        checkout,
        "Pagamento riuscito",
        "Grazie! Il pagamento è andato a buon fine: riceverai la ricevuta anche in chat.",
        with_receipt=True,
    )


@tax_routes.get("/receipts/{token}")
async def download_receipt(request: web.Request) -> web.Response:
    """Serve a receipt to whoever holds its unexpired link (no API key)."""
    receipt_id = verify_receipt_token(
        file_secret(request), request.match_info["token"], now(request)
    )
    stored = await services.receipt_file(unit_of_work(request), receipt_id, payee(request))
    return file_response(stored)
