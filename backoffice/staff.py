"""A minimal page for the comune's clerks: list pratiche and move them along their lifecycle.

Plain HTML, no JavaScript, HTTP Basic auth (any user name, which is recorded in the history;
the password is BACKOFFICE_STAFF_PASSWORD, never the API key). Forms carry a token
tied to the user name, so another site cannot make a logged-in browser post a transition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
from urllib.parse import urlencode

from aiohttp import web

from backoffice.appkeys import SESSIONMAKER, SETTINGS
from backoffice.certificates import ROME
from backoffice.errors import BackOfficeError
from backoffice.repositories import ALLOWED_TRANSITIONS, PracticeRepository
from backoffice.routes import now, protocol
from backoffice.texts import status_label

staff_routes = web.RouteTableDef()

REALM = "Sportello Digitale - ufficio"


def _password(request: web.Request) -> str:
    return request.app[SETTINGS].backoffice_staff_password.get_secret_value()


def _staff_user(request: web.Request) -> str | None:
    """The user name of valid Basic credentials, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    user = user.strip()[:100]
    # Constant-time comparison so the password cannot be guessed byte by byte.
    if not user or not hmac.compare_digest(
        password.encode(), _password(request).encode()
    ):
        return None
    return user


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
</body></html>
"""


@staff_routes.get("/staff")
async def staff_page(request: web.Request) -> web.Response:
    """The list of pratiche with a small transition form for each."""
    user = _staff_user(request)
    if user is None:
        return _challenge()
    async with request.app[SESSIONMAKER]() as session:
        practices = await PracticeRepository(session).staff_list()
    token = _form_token(request, user)
    rows = []
    for practice in practices:
        targets = sorted(ALLOWED_TRANSITIONS.get(practice.status, frozenset()))
        if targets:
            options = "".join(
                f'<option value="{html.escape(to)}">{html.escape(status_label(to))}</option>'
                for to in targets
            )
            action = "/staff/practices/" + html.escape(
                practice.protocol_number, quote=True
            )
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
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


@staff_routes.post("/staff/practices/{year}/{number}/transition")
async def staff_transition(request: web.Request) -> web.Response:
    """Apply the form's transition, then go back to the list with what happened."""
    user = _staff_user(request)
    if user is None:
        return _challenge()
    form = await request.post()
    token = str(form.get("token", ""))
    if not hmac.compare_digest(token, _form_token(request, user)):
        return web.Response(status=403, text="Modulo scaduto: ricarica la pagina.")
    to, note = str(form.get("to", "")), str(form.get("note", "")).strip() or None
    try:
        year, number = protocol(request)
        async with request.app[SESSIONMAKER].begin() as session:
            change = await PracticeRepository(session).transition(
                year, number, to, note, user, now()
            )
        message = (
            f"Pratica {change.detail.summary.protocol_number}: "
            f"{status_label(change.to_status)}."
        )
    except BackOfficeError as exc:
        fields = getattr(exc, "fields", None)
        message = "Non fatto: " + (
            "; ".join(fields.values()) if isinstance(fields, dict) else exc.message
        )
    raise web.HTTPSeeOther("/staff?" + urlencode({"message": message}))
