"""The console's pages at /staff: read the form, call a service, render a template."""

from __future__ import annotations

import math
import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from codicefiscale import codicefiscale
from markupsafe import Markup

from backoffice.analytics import charts as charts_module
from backoffice.analytics import domain as analytics_domain
from backoffice.analytics import services as analytics
from backoffice.analytics.routes import STORES
from backoffice.analytics.schemas import Period
from backoffice.announcements import services as announcements
from backoffice.appkeys import SETTINGS
from backoffice.appointments import services as appointments
from backoffice.appointments.domain import ClosedDays
from backoffice.console import services
from backoffice.console.auth import (
    HEADERS,
    back,
    clear_session_cookie,
    error_page,
    login_csrf,
    page,
    render,
    same_token,
    session_token,
    set_session_cookie,
)
from backoffice.console.domain import ROLE_LABELS, AccountLocked, Clerk, LoginFailed, Permission
from backoffice.console.repository import QueueFilter
from backoffice.db.models import AppointmentStatus, PracticeStatus, StaffRole
from backoffice.errors import BackOfficeError, InvalidRequest, NotFound
from backoffice.events import services as outbox
from backoffice.http.request import now, today, unit_of_work
from backoffice.practices.domain import ALLOWED_TRANSITIONS
from backoffice.practices.texts import status_label
from backoffice.taxes import services as taxes
from backoffice.taxes.routes import payee as tax_payee
from backoffice.templating import environment
from sportello import formatting
from sportello.clock import ROME, local

console_routes = web.RouteTableDef()
STATIC = Path(__file__).parent.parent / "templates" / "console" / "static"

_PROTOCOL = re.compile(r"^\s*(\d{4})\s*/\s*(\d{1,6})\s*$")
_CODE = re.compile(r"^[A-Z0-9-]{4,16}$")
DESK_LABELS = {
    "prenotato": "Prenotato",
    "presente": "Presente",
    "completato": "✅ Completato",
    "non_presentato": "Non presentato",
}
DEAD_SHOWN = 50
# What each notice is, in the office's words.
EVENT_LABELS = {
    "practice_submitted": "Pratica ricevuta",
    "practice_status_changed": "Cambio di stato di una pratica",
    "integration_received": "Documenti integrativi ricevuti",
    "payment_received": "Pagamento ricevuto",
    "payment_reminder": "Promemoria di pagamento",
    "appointment_reminder": "Promemoria di appuntamento",
    "appointment_status_changed": "Stato di un appuntamento",
    "announcement": "Avviso",
}


def _when(value: datetime) -> str:
    return f"{local(value):%d/%m/%Y %H:%M}"


def setup_console(app: web.Application) -> None:
    env = environment(app)
    env.filters.update(
        when=_when,
        day=lambda value: f"{value:%d/%m/%Y}",
        hour=lambda value: formatting.clock(value),
        status_label=status_label,
        desk_label=lambda status: DESK_LABELS.get(status, status),
        role_label=lambda role: ROLE_LABELS.get(role, role),
        event_label=lambda kind: EVENT_LABELS.get(kind, kind.replace("_", " ")),
        euro=formatting.euro,
        grouped=formatting.grouped,
    )
    app.add_routes(console_routes)
    app.router.add_static("/staff/static/", STATIC, name="console_static", append_version=True)


# --- login -----------------------------------------------------------------------------


def _after(request: web.Request, raw: str) -> str:
    # Only a path of this console: never an open redirect to another site.
    return raw if raw.startswith("/staff") and not raw.startswith("//") and "\\" not in raw else "/staff"


@console_routes.get("/staff/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    response = render(request, "login.html", {"csrf": "", "after": _after(request, request.query.get("dopo", ""))})
    token = login_csrf(request, response)
    # Rendered once more with the token now known (it lives in the cookie just set).
    final = render(
        request, "login.html", {"csrf": token, "after": _after(request, request.query.get("dopo", ""))}
    )
    for cookie in response.cookies.values():
        final.cookies[cookie.key] = cookie
    return final


@console_routes.post("/staff/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    after = _after(request, str(form.get("dopo", "")))
    if not same_token(form.get("csrf"), login_csrf(request)):
        raise back("/staff/login", error="Modulo scaduto: riprova.")
    try:
        token, _ = await services.login(
            unit_of_work(request), str(form.get("utente", "")), str(form.get("password", "")), now(request)
        )
    except AccountLocked as locked:
        minutes = max(1, math.ceil((locked.until - now(request)).total_seconds() / 60))
        response = render(
            request,
            "login.html",
            {
                "csrf": login_csrf(request),
                "after": after,
                "failure": "Troppi tentativi sbagliati: l'account è bloccato per "
                f"{minutes} minuti. Se non ricordi la password, chiedi all'amministratore.",
            },
            status=429,
        )
        response.headers["Retry-After"] = str(minutes * 60)
        return response
    except LoginFailed:
        return render(
            request,
            "login.html",
            {"csrf": login_csrf(request), "after": after, "failure": "Nome utente o password sbagliati."},
            status=401,
        )
    response = web.HTTPSeeOther(after)
    set_session_cookie(request, response, token)
    response.del_cookie("sportello_staff_login", path="/staff")
    raise response


@console_routes.post("/staff/logout")
@page()
async def logout(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    await services.logout(unit_of_work(request), session_token(request), clerk, now(request))
    response = web.HTTPSeeOther("/staff/login?" + urlencode({"messaggio": "Sei uscito. A presto!"}))
    clear_session_cookie(response)
    raise response


@console_routes.get("/staff")
@page()
async def home(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    for permission, location in (
        (Permission.PRATICHE, "/staff/pratiche"),
        (Permission.AVVISI, "/staff/avvisi"),
    ):
        if clerk.can(permission):
            raise web.HTTPSeeOther(location)
    return error_page(request, 403)


# --- pratiche --------------------------------------------------------------------------


def _protocol(request: web.Request) -> tuple[int, int]:
    year, number = request.match_info["year"], request.match_info["number"]
    if not (year.isdigit() and number.isdigit() and len(year) == 4 and len(number) <= 6):
        raise web.HTTPNotFound()
    return int(year), int(number)


@console_routes.get("/staff/pratiche")
@page(Permission.PRATICHE, nav="pratiche")
async def queue(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    query = request.query
    wanted_type, wanted_status = query.get("tipo", "")[:64], query.get("stato", "open")[:32]
    search = query.get("protocollo", "").strip()[:20]
    protocol = None
    if search:
        found = _PROTOCOL.match(search)
        if found is None:
            raise back("/staff/pratiche", error="Scrivi il protocollo come 2026/000123.")
        protocol = (int(found.group(1)), int(found.group(2)))
    days = query.get("giorni", "")
    older = now(request) - timedelta(days=int(days)) if days.isdigit() and int(days) <= 3650 else None
    wanted = QueueFilter(
        practice_type=wanted_type,
        status="" if wanted_status == "tutte" or protocol else wanted_status,
        older_than=older,
        protocol=protocol,
        mine=clerk.id if query.get("mie") else None,
    )
    entries, types, counts = await services.queue(
        unit_of_work(request), wanted, today(request), overdue_only=bool(query.get("scadute"))
    )
    if protocol and len(entries) == 1:
        raise web.HTTPSeeOther(f"/staff/pratiche/{protocol[0]}/{protocol[1]:06d}")
    return render(
        request,
        "queue.html",
        {
            "entries": entries,
            "types": types,
            "counts": counts,
            "statuses": [s for s in PracticeStatus if s != PracticeStatus.BOZZA],
            "wanted": {
                "tipo": wanted_type,
                "stato": wanted_status,
                "giorni": days,
                "scadute": bool(query.get("scadute")),
                "mie": bool(query.get("mie")),
                "protocollo": search,
            },
        },
    )


@console_routes.get("/staff/pratiche/{year}/{number}")
@page(Permission.PRATICHE, nav="pratiche")
async def practice(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    year, number = _protocol(request)
    shown = await services.practice_page(unit_of_work(request), year, number, today(request))
    targets = sorted(ALLOWED_TRANSITIONS.get(shown.status, frozenset()))
    return render(request, "practice.html", {"p": shown, "targets": targets})


@console_routes.get("/staff/pratiche/{year}/{number}/allegati/{upload_id}")
@page(Permission.PRATICHE)
async def attachment(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    year, number = _protocol(request)
    upload = await services.attachment(unit_of_work(request), year, number, request.match_info["upload_id"][:32])
    inline = upload.content_type == "application/pdf" or upload.content_type.startswith("image/")
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", upload.filename)[:100] or "allegato"
    return web.Response(
        body=upload.content,
        content_type=upload.content_type,
        headers={
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{safe_name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            # A file a citizen sent is never run as a page of the console.
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; object-src 'self'",
        },
    )


def _practice_url(year: int, number: int) -> str:
    return f"/staff/pratiche/{year}/{number:06d}"


@console_routes.post("/staff/pratiche/{year}/{number}/prendi")
@page(Permission.PRATICHE)
async def take(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    year, number = _protocol(request)
    await services.take_in_charge(unit_of_work(request), clerk, year, number, now(request))
    raise back(_practice_url(year, number), message="Hai preso in carico la pratica.")


@console_routes.post("/staff/pratiche/{year}/{number}/stato")
@page(Permission.PRATICHE)
async def decide(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    year, number = _protocol(request)
    form = await request.post()
    to, note = str(form.get("stato", "")), str(form.get("nota", "")).strip()[:2000] or None
    await services.decide(unit_of_work(request), clerk, year, number, to, note, now(request))
    told = " Il cittadino riceve un messaggio nella chat." if to != "archiviata" else ""
    raise back(_practice_url(year, number), message=f"Stato: {status_label(to)}.{told}")


@console_routes.post("/staff/pratiche/{year}/{number}/assegna")
@page(Permission.ASSEGNA)
async def assign(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    year, number = _protocol(request)
    form = await request.post()
    raw = str(form.get("a", ""))
    if not raw.isdigit():
        raise back(_practice_url(year, number), error="Scegli un collega.")
    name = await services.assign(unit_of_work(request), clerk, year, number, int(raw), now(request))
    raise back(_practice_url(year, number), message=f"Pratica assegnata a {name}.")


@console_routes.post("/staff/pratiche/{year}/{number}/nota")
@page(Permission.PRATICHE)
async def note(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    year, number = _protocol(request)
    form = await request.post()
    text = str(form.get("testo", ""))
    if not text.strip():
        raise back(_practice_url(year, number), error="La nota è vuota.")
    await services.add_note(unit_of_work(request), clerk, year, number, text, now(request))
    raise back(_practice_url(year, number), message="Nota salvata. La vede solo l'ufficio.")


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


def _analytics_period(request: web.Request) -> Period:
    try:
        return analytics_domain.period(request.query.get("dal") or None, request.query.get("al") or None, today(request))
    except InvalidRequest:
        raise back("/staff/cruscotto", error="Periodo non valido: scegli due date, la prima non dopo la seconda.") from None


@console_routes.get("/staff/cruscotto")
@page(Permission.CRUSCOTTO, nav="cruscotto")
async def dashboard(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    span = _analytics_period(request)
    figures = await analytics.figures(
        unit_of_work(request), request.app[STORES], ClosedDays(request.app[SETTINGS].comune_closing_days), span
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
        unit_of_work(request), request.app[STORES], ClosedDays(request.app[SETTINGS].comune_closing_days), span
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
        ClosedDays(request.app[SETTINGS].comune_closing_days),
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
        found = await services.tax_file(unit_of_work(request), clerk, raw, now(request))
    payments = await services.recent_payments(unit_of_work(request)) if not raw else []
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
        await services.record(unit_of_work(request), clerk, "notifica_riprovata", raw, "", now(request))
        raise back("/staff/notifiche", message="Notifica rimessa in coda.")
    raise back("/staff/notifiche", error="Notifica non trovata o già in coda.")


# --- registro e utenti -------------------------------------------------------------------


@console_routes.get("/staff/registro")
@page(Permission.AUDIT, nav="registro")
async def audit(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    who = request.query.get("utente", "")[:60]
    return render(request, "audit.html", {"rows": await services.audit_log(unit_of_work(request), 300, who), "who": who})


@console_routes.get("/staff/utenti")
@page(Permission.UTENTI, nav="utenti")
async def users(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    return render(
        request,
        "users.html",
        {"people": await services.people(unit_of_work(request), now(request)), "roles": list(StaffRole)},
    )


@console_routes.post("/staff/utenti")
@page(Permission.UTENTI, back_to=lambda _: "/staff/utenti")
async def add_user(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    form = await request.post()
    person = await services.add_user(
        unit_of_work(request),
        str(form.get("utente", "")),
        str(form.get("nome", "")),
        str(form.get("ruolo", "")),
        str(form.get("password", "")),
        now(request),
        by=clerk,
    )
    raise back("/staff/utenti", message=f"Account {person.username} creato.")


@console_routes.post("/staff/utenti/{user_id}/{action}")
@page(Permission.UTENTI, back_to=lambda _: "/staff/utenti")
async def set_active(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    raw, action = request.match_info["user_id"], request.match_info["action"]
    if not raw.isdigit() or action not in ("attiva", "disattiva"):
        raise web.HTTPNotFound()
    await services.set_active(unit_of_work(request), clerk, int(raw), action == "attiva", now(request))
    raise back("/staff/utenti", message="Account attivato." if action == "attiva" else "Account disattivato.")


__all__ = ["HEADERS", "console_routes", "setup_console"]
