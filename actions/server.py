"""The action server: rasa-sdk's app, on loopback, answering only calls that carry Rasa's token.

rasa-sdk checks no credential, so its Sanic app is wrapped here: every route but `/health`
needs `Authorization: Bearer <ACTION_SERVER_TOKEN>`, which Rasa sends from endpoints.yml.
"""

from __future__ import annotations

import hmac
import logging
import time

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from sportello.logs import configure_logging
from sportello.metrics import CONTENT_TYPE, SECONDS, Counter, Histogram, exposition
from sportello.security import exit_if_unsafe
from sportello.settings import get_settings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health", "/metrics"})

CALLS = Counter("sportello_action_calls_total", "Actions run for Rasa, by action and HTTP status", ["action", "status"])
CALL_TIME = Histogram("sportello_action_call_seconds", "Time of one action call", ["action"], buckets=SECONDS)


def token_guard(token: str):  # type: ignore[no-untyped-def]
    """A request middleware refusing, in constant time, any call without the shared token."""
    expected = f"Bearer {token}".encode()

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            logger.warning("action call refused: missing or wrong token")
            return response.json({"error": "unauthorized"}, status=401)
        return None

    return require_token


def create_action_app() -> Sanic:
    """rasa-sdk's app with every action of this package, behind the token."""
    settings = get_settings()
    executor = ActionExecutor()
    executor.register_package("actions")
    # No browser ever calls the action server: no CORS.
    app = create_app(executor, cors_origins="")
    app.on_request(token_guard(settings.action_server_token.get_secret_value()), priority=100)
    app.on_request(_start_clock)
    app.on_response(_count_call)
    app.add_route(_metrics, "/metrics", methods=["GET"])
    return app


async def _start_clock(request: Request) -> None:
    request.ctx.started = time.perf_counter()


async def _count_call(request: Request, reply: HTTPResponse) -> None:
    if request.path != "/webhook":
        return
    action = "-"  # refused calls: their body names no label, so nobody can inflate them
    if reply.status != 401:
        try:
            action = str((request.json or {}).get("next_action", "?"))[:64]
        except Exception:  # noqa: BLE001 - a body that is no JSON is counted as such
            action = "?"
    CALLS.labels(action, str(reply.status)).inc()
    started = getattr(request.ctx, "started", None)
    if started is not None:
        CALL_TIME.labels(action).observe(time.perf_counter() - started)


async def _metrics(request: Request) -> HTTPResponse:
    """Prometheus: the actions run, their outcome and their time; no personal data."""
    return response.raw(exposition(), content_type=CONTENT_TYPE)


def main() -> None:
    """Serve the actions on ACTION_SERVER_HOST:ACTION_SERVER_PORT, in this one process."""
    configure_logging()  # no link token in any line (sportello/logs.py)
    settings = get_settings()
    exit_if_unsafe(settings, "actions")
    app = create_action_app()
    app.prepare(
        host=settings.action_server_host,
        port=settings.action_server_port,
        single_process=True,
        access_log=False,
        motd=False,
    )
    Sanic.serve_single(app)
