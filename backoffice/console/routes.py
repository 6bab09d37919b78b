"""The console's pages at /staff: login, pratiche, people; the rest in office_routes.py."""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from backoffice.console import accounts, services
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
from backoffice.db.models import PracticeStatus, StaffRole
from backoffice.http.request import now, today, unit_of_work
from backoffice.practices.domain import ALLOWED_TRANSITIONS
from backoffice.practices.texts import status_label
from backoffice.templating import environment
from sportello import formatting
from sportello.clock import local

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
        duration=formatting.duration,
    )
    from backoffice.console import office_routes  # noqa: F401 - its pages join console_routes

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
        token, _ = await accounts.login(
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
    await accounts.logout(unit_of_work(request), session_token(request), clerk, now(request))
    response = web.HTTPSeeOther("/staff/login?" + urlencode({"messaggio": "Sei uscito. A presto!"}))
    clear_session_cookie(response)
    raise response


@console_routes.get("/staff")
@page()
async def home(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    for permission, location in (
        (Permission.PRATICHE, "/staff/pratiche"),
        (Permission.AVVISI, "/staff/avvisi"),
        (Permission.CONVERSAZIONI, "/staff/conversazioni"),
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


# --- registro e utenti -------------------------------------------------------------------


@console_routes.get("/staff/registro")
@page(Permission.AUDIT, nav="registro")
async def audit(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    who = request.query.get("utente", "")[:60]
    return render(request, "audit.html", {"rows": await accounts.audit_log(unit_of_work(request), 300, who), "who": who})


@console_routes.get("/staff/utenti")
@page(Permission.UTENTI, nav="utenti")
async def users(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    return render(
        request,
        "users.html",
        {"people": await accounts.people(unit_of_work(request), now(request)), "roles": list(StaffRole)},
    )


@console_routes.post("/staff/utenti")
@page(Permission.UTENTI, back_to=lambda _: "/staff/utenti")
async def add_user(request: web.Request, clerk: Clerk) -> web.StreamResponse:
    form = await request.post()
    person = await accounts.add_user(
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
    await accounts.set_active(unit_of_work(request), clerk, int(raw), action == "attiva", now(request))
    raise back("/staff/utenti", message="Account attivato." if action == "attiva" else "Account disattivato.")


__all__ = ["HEADERS", "console_routes", "setup_console"]
