"""A minimal page for the comune's clerks: list pratiche and move them along their lifecycle.

Plain HTML, no JavaScript, HTTP Basic auth (any user name, which is recorded in the history;
the password is BACKOFFICE_STAFF_PASSWORD, never the API key). Forms carry a token
tied to the user name, so another site cannot make a logged-in browser post a transition.
Wrong passwords are throttled, per client address and overall (LoginThrottle).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web

from backoffice.appkeys import SETTINGS
from backoffice.errors import BackOfficeError
from backoffice.events import services as outbox
from backoffice.http.request import now, unit_of_work
from backoffice.practices import services as practices
from backoffice.practices.domain import ALLOWED_TRANSITIONS
from backoffice.practices.routes import protocol
from backoffice.practices.texts import status_label
from sportello.clock import ROME

staff_routes = web.RouteTableDef()

REALM = "Sportello Digitale - ufficio"

# --- throttling wrong passwords -------------------------------------------------------

# Failures older than this are forgotten.
FAILURE_WINDOW_SECONDS = 15 * 60.0
# Wrong passwords allowed without waiting: from one client address, and from all together
# (many addresses guessing at once). Beyond them every failure doubles the wait.
FREE_FAILURES_PER_CLIENT = 5
FREE_FAILURES_OVERALL = 20
FIRST_WAIT_SECONDS = 30.0
MAX_WAIT_SECONDS = FAILURE_WINDOW_SECONDS
# Client addresses remembered at most; the oldest are dropped beyond it.
MAX_CLIENTS = 10_000
_OVERALL = "*"


@dataclass
class LoginThrottle:
    """Wrong staff passwords in the last FAILURE_WINDOW_SECONDS, per client address and
    overall, in this process's memory (the back office is one process).

    After the free failures, the next attempt waits FIRST_WAIT_SECONDS from the last
    failure, doubling with each further failure up to MAX_WAIT_SECONDS. While one has to
    wait, no password is checked at all, the right one included.
    """

    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, client: str) -> int:
        """Seconds this client must still wait before a password is checked; 0 if none."""
        now = self.clock()
        wait = max(
            self._wait(client, FREE_FAILURES_PER_CLIENT, now),
            self._wait(_OVERALL, FREE_FAILURES_OVERALL, now),
        )
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, client: str) -> None:
        now = self.clock()
        for key in (client, _OVERALL):
            failures = self._failures.setdefault(key, deque())
            _forget_old(failures, now)
            failures.append(now)
        if len(self._failures) > MAX_CLIENTS + 1:
            clients = (key for key in self._failures if key != _OVERALL)
            del self._failures[min(clients, key=self._last_failure)]

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _last_failure(self, key: str) -> float:
        failures = self._failures[key]
        return failures[-1] if failures else -math.inf

    def _wait(self, key: str, free: int, now: float) -> float:
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        _forget_old(failures, now)
        if not failures and key != _OVERALL:
            del self._failures[key]
        if len(failures) < free:
            return 0.0
        wait = min(FIRST_WAIT_SECONDS * 2 ** (len(failures) - free), MAX_WAIT_SECONDS)
        return failures[-1] + wait - now


def _forget_old(failures: deque[float], now: float) -> None:
    while failures and failures[0] <= now - FAILURE_WINDOW_SECONDS:
        failures.popleft()


STAFF_LOGINS = web.AppKey("staff_logins", LoginThrottle)


class Throttled(Exception):
    """Too many wrong passwords: wait `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many wrong staff passwords")
        self.retry_after = retry_after


def _client(request: web.Request) -> str:
    # The staff page is on the internal listener only: the peer is the clerk's machine
    # (or the one proxy in front of it). Forwarded headers are not trusted.
    return request.remote or "unknown"


def _password(request: web.Request) -> str:
    return request.app[SETTINGS].backoffice_staff_password.get_secret_value()


def _staff_user(request: web.Request) -> str | None:
    """The user name of valid Basic credentials, else None; Throttled while one must wait."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    throttle, client = request.app[STAFF_LOGINS], _client(request)
    wait = throttle.retry_after(client)
    if wait:
        raise Throttled(wait)
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    user = user.strip()[:100]
    # Constant-time comparison so the password cannot be guessed byte by byte.
    if not hmac.compare_digest(password.encode(), _password(request).encode()):
        throttle.failed(client)
        return None
    if not user:
        return None
    throttle.succeeded(client)
    return user


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} secondi" if seconds != 1 else "un secondo"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minuti" if minutes != 1 else "un minuto"


def _too_many(error: Throttled) -> web.Response:
    return web.Response(
        status=429,
        text=(
            "Troppi tentativi con la password sbagliata. Per sicurezza aspetta "
            f"{_wait_words(error.retry_after)} e riprova. Se non ricordi la password, "
            "chiedila al responsabile dei sistemi informativi del Comune."
        ),
        headers={"Retry-After": str(error.retry_after)},
    )


def _challenge() -> web.Response:
    return web.Response(
        status=401,
        text="Accesso riservato al personale del Comune.",
        headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
    )


def _form_token(request: web.Request, user: str) -> str:
    key = hashlib.sha256(b"staff-form/" + _password(request).encode()).digest()
    return hmac.new(key, user.encode(), hashlib.sha256).hexdigest()


_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pratiche - Comune di {comune}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ccc; padding: .4em; text-align: left; vertical-align: top; }}
.message {{ padding: .6em; background: #eef; margin-bottom: 1em; }}
</style></head>
<body>
<h1>Pratiche - Comune di {comune}</h1>
<p>Operatore: <strong>{user}</strong></p>
{message}
<table>
<thead><tr><th>Protocollo</th><th>Tipo</th><th>Stato</th><th>Aggiornata</th><th>Cambia stato</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>Notifiche non consegnate</h2>
<p>In attesa: {pending}. Consegnate: {sent}. Non consegnate: {dead}.</p>
{dead_rows}
</body></html>
"""

# What each notice is, in the office's words.
EVENT_LABELS = {
    "practice_submitted": "Pratica ricevuta",
    "practice_status_changed": "Cambio di stato di una pratica",
    "integration_received": "Documenti integrativi ricevuti",
    "payment_received": "Pagamento ricevuto",
    "payment_reminder": "Promemoria di pagamento",
    "appointment_reminder": "Promemoria di appuntamento",
}
# Parked deliveries shown on the page, newest first.
DEAD_SHOWN = 50


def _dead_table(dead: list[dict[str, object]], token: str) -> str:
    if not dead:
        return "<p>Nessuna notifica da controllare.</p>"
    rows = []
    for item in dead:
        failed = str(item["failed_at"] or "")[:16].replace("T", " ")
        label = EVENT_LABELS.get(str(item["event_type"]), str(item["event_type"]))
        rows.append(
            "<tr>"
            f"<td>{html.escape(label)}</td>"
            f"<td>{html.escape(failed)} UTC</td>"
            f"<td>{item['attempts']}</td>"
            f"<td>{html.escape(str(item['last_error'] or ''))}</td>"
            f'<td><form method="post" action="/staff/deliveries/{item["id"]}/retry">'
            f'<input type="hidden" name="token" value="{token}">'
            '<button type="submit">Riprova</button></form></td>'
            "</tr>"
        )
    return (
        "<p>Il cittadino ha bloccato il bot o cancellato la chat, oppure Telegram ha rifiutato "
        "il messaggio più volte. Riprova quando il cittadino ha riaperto la chat.</p>"
        "<table><thead><tr><th>Notifica</th><th>Ultimo tentativo</th><th>Tentativi</th>"
        "<th>Errore</th><th></th></tr></thead><tbody>" + "\n".join(rows) + "</tbody></table>"
    )


@staff_routes.get("/staff")
async def staff_page(request: web.Request) -> web.Response:
    """The list of pratiche with a small transition form for each."""
    try:
        user = _staff_user(request)
    except Throttled as error:
        return _too_many(error)
    if user is None:
        return _challenge()
    latest = await practices.staff_list(unit_of_work(request))
    counts, dead = await outbox.overview(unit_of_work(request), DEAD_SHOWN)
    token = _form_token(request, user)
    rows = []
    for practice in latest:
        targets = sorted(ALLOWED_TRANSITIONS.get(practice.status, frozenset()))
        if targets:
            options = "".join(
                f'<option value="{html.escape(to)}">{html.escape(status_label(to))}</option>'
                for to in targets
            )
            action = "/staff/practices/" + html.escape(practice.protocol_number, quote=True)
            form = (
                f'<form method="post" action="{action}/transition">'
                f'<input type="hidden" name="token" value="{token}">'
                f'<select name="to">{options}</select> '
                '<input name="note" size="40" placeholder="Nota per il cittadino"> '
                '<button type="submit">Applica</button></form>'
            )
        else:
            form = "-"
        updated = practice.updated_at.astimezone(ROME)
        rows.append(
            "<tr>"
            f"<td>{html.escape(practice.protocol_number)}</td>"
            f"<td>{html.escape(practice.practice_type_name)}</td>"
            f"<td>{html.escape(status_label(practice.status))}</td>"
            f"<td>{updated:%d/%m/%Y %H:%M}</td>"
            f"<td>{form}</td>"
            "</tr>"
        )
    message = request.query.get("message")
    page = _PAGE.format(
        comune=html.escape(request.app[SETTINGS].comune_name),
        user=html.escape(user),
        message=(f'<p class="message">{html.escape(message)}</p>' if message else ""),
        rows="\n".join(rows),
        pending=counts["pending"],
        sent=counts["sent"],
        dead=counts["dead"],
        dead_rows=_dead_table(dead, token),
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _staff_form_user(request: web.Request, form: Mapping[str, object]) -> str | web.Response:
    """The clerk posting a form with a valid token, or the answer to give instead."""
    try:
        user = _staff_user(request)
    except Throttled as error:
        return _too_many(error)
    if user is None:
        return _challenge()
    token = str(form.get("token", ""))
    if not hmac.compare_digest(token, _form_token(request, user)):
        return web.Response(status=403, text="Modulo scaduto: ricarica la pagina.")
    return user


@staff_routes.post("/staff/deliveries/{delivery_id}/retry")
async def staff_retry_delivery(request: web.Request) -> web.Response:
    """Queue a parked notification again, then go back to the page with what happened."""
    user = _staff_form_user(request, await request.post())
    if isinstance(user, web.Response):
        return user
    raw = request.match_info["delivery_id"]
    retried = False
    if raw.isdigit() and len(raw) <= 18:
        retried = await outbox.retry(unit_of_work(request), int(raw), now(request))
    message = "Notifica rimessa in coda." if retried else "Non fatto: notifica non trovata o già in coda."
    raise web.HTTPSeeOther("/staff?" + urlencode({"message": message}))


@staff_routes.post("/staff/practices/{year}/{number}/transition")
async def staff_transition(request: web.Request) -> web.Response:
    """Apply the form's transition, then go back to the list with what happened."""
    form = await request.post()
    user = _staff_form_user(request, form)
    if isinstance(user, web.Response):
        return user
    to, note = str(form.get("to", "")), str(form.get("note", "")).strip() or None
    try:
        year, number = protocol(request)
        change = await practices.transition(unit_of_work(request), year, number, to, note, user, now(request))
        message = f"Pratica {change.detail.summary.protocol_number}: {status_label(change.to_status)}."
    except BackOfficeError as exc:
        fields = getattr(exc, "fields", None)
        message = "Non fatto: " + ("; ".join(fields.values()) if isinstance(fields, dict) else exc.message)
    raise web.HTTPSeeOther("/staff?" + urlencode({"message": message}))
