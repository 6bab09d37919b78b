"""The console's edge: the session cookie, CSRF on every form, the role a page needs.

The cookie holds a random token (the database keeps only its SHA-256), HttpOnly,
SameSite=Strict, Secure in production or over HTTPS, path /staff. Every POST carries the
session's CSRF token in a hidden field; the login form its own, in a short cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from backoffice.appkeys import SETTINGS
from backoffice.console import accounts
from backoffice.console.domain import Clerk, Permission, WeakPassword
from backoffice.errors import BackOfficeError, Forbidden, InvalidTransition, NotFound
from backoffice.http.request import now, unit_of_work
from backoffice.practices.domain import InvalidData

COOKIE = "sportello_staff"
LOGIN_COOKIE = "sportello_staff_login"
PATH = "/staff"
_CLERK = web.RequestKey("console_clerk", Clerk)
_TOKEN = web.RequestKey("console_token", str)
_NAV = web.RequestKey("console_nav", str)

PageHandler = Callable[[web.Request, Clerk], Awaitable[web.StreamResponse]]

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # No inline script but the console's own file; images from itself and data: (QR, charts).
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def secure_cookies(request: web.Request) -> bool:
    return request.app[SETTINGS].production or request.secure


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE, token, path=PATH, httponly=True, samesite="Strict", secure=secure_cookies(request)
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path=PATH)


def login_csrf(request: web.Request, response: web.StreamResponse | None = None) -> str:
    """The login form's token: the one in the cookie, or a new one set on `response`."""
    token = request.cookies.get(LOGIN_COOKIE, "")
    if len(token) < 20 and response is not None:
        token = secrets.token_urlsafe(24)
        response.set_cookie(
            LOGIN_COOKIE, token, path=PATH, httponly=True, samesite="Strict", secure=secure_cookies(request),
            max_age=3600,
        )
    return token


def same_token(given: object, expected: str) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def render(request: web.Request, template: str, context: dict[str, object], status: int = 200) -> web.Response:
    clerk = request.get(_CLERK)
    base = {
        "comune": request.app[SETTINGS].comune_name,
        "clerk": clerk,
        "Permission": Permission,
        "message": request.query.get("messaggio", "")[:300],
        "error": request.query.get("errore", "")[:300],
        "nav": request.get(_NAV, ""),
    }
    response = aiohttp_jinja2.render_template(f"console/{template}", request, {**base, **context}, status=status)
    response.headers.update(HEADERS)
    return response


def back(location: str, *, message: str = "", error: str = "") -> web.HTTPSeeOther:
    query = {key: value for key, value in (("messaggio", message), ("errore", error)) if value}
    separator = "&" if "?" in location else "?"
    return web.HTTPSeeOther(location + (separator + urlencode(query) if query else ""))


ERROR_PAGES = {
    403: ("Non puoi aprire questa pagina", "Il tuo ruolo non lo permette. Se ti serve, chiedi al responsabile."),
    404: ("Non trovato", "Quello che cerchi non c'è, o non c'è più."),
    400: ("Richiesta non valida", "Controlla i dati e riprova."),
}


def error_page(request: web.Request, status: int) -> web.Response:
    title, text = ERROR_PAGES.get(status, ERROR_PAGES[400])
    return render(request, "error.html", {"title": title, "text": text}, status=status)


def _parent(request: web.Request) -> str:
    return request.path.rsplit("/", 1)[0] or "/staff"


def page(
    permission: Permission | None = None, nav: str = "", back_to: Callable[[web.Request], str] = _parent
) -> Callable[[PageHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A console page: logged in (else to the login page), with the role it needs, and on
    POST the session's CSRF token. Domain errors become a page in Italian, not JSON; after
    a form, the page `back_to` (by default the action's parent path) says what went wrong."""

    def decorate(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            token = request.cookies.get(COOKIE, "")
            clerk = await accounts.clerk_for(unit_of_work(request), token, now(request))
            if clerk is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther("/staff/login?" + urlencode({"dopo": request.path_qs[:300]}))
                raise back("/staff/login", error="La sessione è scaduta: accedi di nuovo.")
            request[_CLERK], request[_TOKEN], request[_NAV] = clerk, token, nav
            if permission is not None and not clerk.can(permission):
                return error_page(request, 403)
            if request.method == "POST":
                form = await request.post()
                if not same_token(form.get("csrf"), clerk.csrf_token):
                    return render(
                        request,
                        "error.html",
                        {"title": "Modulo scaduto", "text": "Ricarica la pagina e riprova."},
                        status=403,
                    )
            try:
                return await handler(request, clerk)
            except Forbidden:
                return error_page(request, 403)
            except NotFound:
                if request.method == "POST":
                    raise back(back_to(request), error="Non trovato: forse è stato tolto nel frattempo.") from None
                return error_page(request, 404)
            except BackOfficeError as exc:
                if request.method == "POST":
                    raise back(back_to(request), error=italian(exc)) from None
                return error_page(request, 400)

        return wrapper

    return decorate


def session_token(request: web.Request) -> str:
    return str(request.get(_TOKEN, ""))


# What the domain's errors say to a clerk (their messages are for engineers, in English).
_ITALIAN = {
    "invalid_transition": "Questo passaggio di stato non è possibile da quello attuale.",
    "invalid_data": "Scrivi una nota: il cittadino la leggerà.",
    "this colleague cannot take pratiche": "Questo collega non può prendere pratiche.",
    "the note is empty": "La nota è vuota.",
    "unknown desk status": "Stato non valido.",
    "this user name is taken": "Questo nome utente esiste già.",
    "unknown role": "Ruolo non valido.",
    "one cannot disable oneself": "Non puoi disattivare il tuo stesso account.",
    "the display name is needed": "Scrivi nome e cognome.",
}


def italian(exc: BackOfficeError) -> str:
    if isinstance(exc, InvalidTransition):
        return _ITALIAN["invalid_transition"]
    if isinstance(exc, InvalidData):
        return "; ".join(str(v) for v in exc.fields.values()) or _ITALIAN["invalid_data"]
    if isinstance(exc, WeakPassword):
        return "La password deve avere almeno 12 caratteri e non contenere il nome utente."
    return _ITALIAN.get(exc.message, "Non è stato possibile: controlla i dati e riprova.")
