"""The console's pages of the counter and the office: sportello, cruscotto, tributi, avvisi,
undelivered notifications."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web
from codicefiscale import codicefiscale
from markupsafe import Markup

from backoffice.analytics import charts as charts_module
from backoffice.analytics import period as analytics_period
from backoffice.analytics import services as analytics
from backoffice.analytics.routes import STORES
from backoffice.analytics.schemas import Period
from backoffice.announcements import services as announcements
from backoffice.appkeys import SETTINGS
from backoffice.appointments import services as appointments
from backoffice.appointments.domain import ClosedDays
from backoffice.console import accounts, conversations, services
from backoffice.console import taxes as tax_views
from backoffice.console.auth import (
    back,
    page,
    render,
)
from backoffice.console.domain import Clerk, Permission
from backoffice.console.routes import _CODE, DEAD_SHOWN, DESK_LABELS, console_routes
from backoffice.db.models import AppointmentStatus
from backoffice.errors import BackOfficeError, InvalidRequest, NotFound
from backoffice.events import services as outbox
from backoffice.http.request import now, today, unit_of_work
from backoffice.taxes import services as taxes
from backoffice.taxes.routes import payee as tax_payee
from sportello import formatting
from sportello.clock import ROME, local

# --- sportello -------------------------------------------------------------------------


def _day(raw: str, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


@console_routes.get("/staff/sportello")
@page(Permission.SPORTELLO, nav="sportello")
async def desk(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    day = _day(request.query.get("giorno", ""), today(request))
    service = request.query.get("servizio", "")[:32]
    rows, services_list = await services.day_at_the_desk(unit_of_work(request), day, service)
    wanted = request.query.get("codice", "").strip().upper()[:16]
    return render(
        request,
        "desk.html",
        {
            "rows": rows,
            "services": services_list,
            "day": day,
            "day_words": formatting.long_date(day),
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "service": service,
            "highlight": wanted,
            "statuses": [AppointmentStatus.PRESENTE, AppointmentStatus.COMPLETATO, AppointmentStatus.NON_PRESENTATO],
        },
    )


_VERIFY = re.compile(r"/appointments/verify/([A-Za-z0-9-]{4,16})")


@console_routes.get("/staff/sportello/cerca")
@page(Permission.SPORTELLO)
async def find_booking(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    """The code typed, or the QR of the ticket read by the tablet's camera (its URL)."""
    raw = request.query.get("codice", "").strip()[:300]
    from_qr = _VERIFY.search(raw)
    code = (from_qr.group(1) if from_qr else raw).upper()
    if not _CODE.match(code):
        raise back("/staff/sportello", error="Codice della prenotazione non valido.")
    try:
        booking = await appointments.verification(unit_of_work(request), code)
    except NotFound:
        raise back("/staff/sportello", error=f"Nessuna prenotazione con il codice {code}.") from None
    day = local(booking.starts_at).date()
    raise web.HTTPSeeOther(
        "/staff/sportello?" + urlencode({"giorno": day.isoformat(), "codice": booking.code}) + f"#p-{booking.code}"
    )


@console_routes.post("/staff/sportello/{code}/stato")
@page(Permission.SPORTELLO)
async def desk_status(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    code = request.match_info["code"].upper()[:16]
    form = await request.post()
    to = str(form.get("stato", ""))
    day = str(form.get("giorno", ""))[:10]
    location = "/staff/sportello?" + urlencode({"giorno": day, "codice": code})
    try:
        changed = await services.desk_status(unit_of_work(request), clerk, code, to, now(request))
    except NotFound:
        raise back(location, error=f"Nessuna prenotazione con il codice {code}.") from None
    except InvalidRequest:
        raise back(location, error="Stato non valido.") from None
    except BackOfficeError:
        raise back(location, error="Non si può: controlla l'orario e lo stato della prenotazione.") from None
    label = DESK_LABELS.get(to, to)
    raise back(location, message=f"{code}: {label}." if changed else f"{code} era già: {label}.")


# --- cruscotto ------------------------------------------------------------------------


def _closed_days(request: web.Request) -> ClosedDays:
    return ClosedDays(request.app[SETTINGS].comune_closing_days)


def _analytics_period(request: web.Request) -> Period:
    try:
        return analytics_period.period(request.query.get("dal") or None, request.query.get("al") or None, today(request))
    except InvalidRequest:
        raise back("/staff/cruscotto", error="Periodo non valido: scegli due date, la prima non dopo la seconda.") from None


@console_routes.get("/staff/cruscotto")
@page(Permission.CRUSCOTTO, nav="cruscotto")
async def dashboard(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    span = _analytics_period(request)
    figures = await analytics.figures(
        unit_of_work(request), request.app[STORES], _closed_days(request), span
    )
    shown = figures.to_json()
    charts = [Markup(charts_module.conversations_chart(figures)), Markup(charts_module.intents_chart(figures))]
    charts += [Markup(charts_module.drop_off_chart(funnel)) for funnel in figures.forms or ()]
    return render(request, "dashboard.html", {"f": shown, "charts": charts, "span": span})


@console_routes.get("/staff/cruscotto/export.csv")
@page(Permission.CRUSCOTTO)
async def dashboard_csv(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    span = _analytics_period(request)
    text = await analytics.export_csv(
        unit_of_work(request), request.app[STORES], _closed_days(request), span
    )
    return web.Response(
        body=("\ufeff" + text).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cruscotto_{span.first.isoformat()}_{span.last.isoformat()}.csv"',
            "Cache-Control": "no-store",
        },
    )


@console_routes.get("/staff/cruscotto/dati-aperti.json")
@page(Permission.CRUSCOTTO)
async def dashboard_open_data(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    body = await analytics.open_data(
        unit_of_work(request),
        request.app[STORES],
        _closed_days(request),
        _analytics_period(request),
    )
    return web.json_response(body, headers={"Content-Disposition": 'attachment; filename="cruscotto-dati-aperti.json"'})


# --- tributi --------------------------------------------------------------------------


@console_routes.get("/staff/tributi")
@page(Permission.TRIBUTI, nav="tributi")
async def taxes_page(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    raw = request.query.get("cf", "").strip().upper().replace(" ", "")[:16]
    found = None
    if raw:
        if not codicefiscale.is_valid(raw):
            raise back("/staff/tributi", error="Codice fiscale non valido: controlla le 16 lettere e cifre.")
        found = await tax_views.tax_file(unit_of_work(request), clerk, raw, now(request))
    payments = await tax_views.recent_payments(unit_of_work(request)) if not raw else []
    return render(request, "taxes.html", {"cf": raw, "found": found, "payments": payments})


@console_routes.get("/staff/tributi/ricevute/{receipt_id}")
@page(Permission.TRIBUTI)
async def receipt(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    raw = request.match_info["receipt_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound()
    stored = await taxes.receipt_file(unit_of_work(request), int(raw), tax_payee(request))
    return web.Response(
        body=stored.content,
        content_type=stored.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{stored.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- avvisi ----------------------------------------------------------------------------


@console_routes.get("/staff/avvisi")
@page(Permission.AVVISI, nav="avvisi")
async def announcements_page(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    topics, zones = await announcements.catalogue(unit_of_work(request))
    recent = await services.recent_announcements(unit_of_work(request))
    return render(
        request,
        "announcements.html",
        {"topics": topics, "zones": zones, "recent": recent, "key": secrets.token_urlsafe(16)},
    )


@console_routes.post("/staff/avvisi")
@page(Permission.AVVISI, back_to=lambda _: "/staff/avvisi")
async def publish(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    form = await request.post()
    body: dict[str, object] = {
        "topic": str(form.get("tema", "")),
        "zones": [str(z) for z in form.getall("zone", [])],
        "text": str(form.get("testo", "")).strip(),
    }
    when = str(form.get("quando", "")).strip()
    if when:
        try:
            scheduled = datetime.fromisoformat(when)
        except ValueError:
            raise back("/staff/avvisi", error="Data e ora non valide.") from None
        if scheduled.tzinfo is None:
            scheduled = scheduled.replace(tzinfo=ROME)
        body["scheduled_at"] = scheduled.isoformat()
    if not body["text"]:
        raise back("/staff/avvisi", error="Scrivi il testo dell'avviso.")
    key = str(form.get("chiave", ""))[:64]
    if len(key) < 16:
        raise back("/staff/avvisi", error="Modulo scaduto: riprova.")
    try:
        number = await services.publish(unit_of_work(request), clerk, body, key, now(request))
    except NotFound:
        raise back("/staff/avvisi", error="Tema o zona non validi.") from None
    except InvalidRequest:
        raise back("/staff/avvisi", error="Avviso non valido: controlla il testo (al massimo 3.500 caratteri).") from None
    raise back("/staff/avvisi", message=f"Avviso n. {number} in invio ai cittadini iscritti.")


# --- notifiche non consegnate ------------------------------------------------------------


@console_routes.get("/staff/notifiche")
@page(Permission.PRATICHE, nav="notifiche")
async def deliveries(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    counts, dead = await outbox.overview(unit_of_work(request), DEAD_SHOWN)
    return render(request, "deliveries.html", {"counts": counts, "dead": dead})


@console_routes.post("/staff/notifiche/{delivery_id}/riprova")
@page(Permission.PRATICHE)
async def retry(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    raw = request.match_info["delivery_id"]
    retried = raw.isdigit() and len(raw) <= 18 and await outbox.retry(unit_of_work(request), int(raw), now(request))
    if retried:
        await accounts.record(unit_of_work(request), clerk, "notifica_riprovata", raw, "", now(request))
        raise back("/staff/notifiche", message="Notifica rimessa in coda.")
    raise back("/staff/notifiche", error="Notifica non trovata o già in coda.")



# --- conversazioni ------------------------------------------------------------------------


@console_routes.get("/staff/conversazioni")
@page(Permission.CONVERSAZIONI, nav="conversazioni")
async def conversation_list(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    wanted = request.query.get("stato", "")[:16]
    status = conversations.STATUS_PARAMS.get(wanted)
    try:
        found = await conversations.overview(request.app[STORES], unit_of_work(request), status, now(request))
    except conversations.StoreUnavailable:
        return render(request, "conversations.html", {"unavailable": True, "wanted": wanted})
    return render(
        request,
        "conversations.html",
        {"overview": found, "unavailable": False, "wanted": wanted if status else ""},
    )


@console_routes.get("/staff/conversazioni/{ticket_id}")
@page(Permission.CONVERSAZIONI, nav="conversazioni")
async def conversation_page(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    raw = request.match_info["ticket_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    try:
        shown = await conversations.conversation(
            request.app[STORES],
            unit_of_work(request),
            clerk,
            int(raw),
            now(request),
            request.app[SETTINGS].handoff_retention_days,
        )
    except conversations.StoreUnavailable:
        return render(request, "conversations.html", {"unavailable": True, "wanted": ""})
    return render(request, "conversation.html", {"page": shown})
