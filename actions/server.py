"""The action server: rasa-sdk's app, on loopback, answering only calls that carry Rasa's token.

rasa-sdk checks no credential, so its Sanic app is wrapped here: every route but `/health`
needs `Authorization: Bearer <ACTION_SERVER_TOKEN>`, which Rasa sends from endpoints.yml.
"""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from sportello.logs import configure_logging
from sportello.security import exit_if_unsafe
from sportello.settings import get_settings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


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
    return app


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
