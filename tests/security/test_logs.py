"""No log line carries a link token: not the back office's, not the bot's, on error paths either.

Whoever reads `/checkout/<token>`, `/files/<token>`, `/receipts/<token>` or a desk QR's `?t=` in
a log could pay, download a certificate or a receipt. They get there by accident: aiohttp
quotes the request line of a malformed request, a failed download quotes its URL.
"""

from __future__ import annotations

import io
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.handlers import report_error
from bot.render import Renderer
from sportello.logs import configure_logging, redact
from tests.stack import Service, base_env, free_port, http_ok

MARIO = "RSSMRA50C12C552D"


@pytest.fixture()
def backoffice(tmp_path: Path) -> Iterator[tuple[Service, dict[str, str]]]:
    """The real back office process alone, its log in a file."""
    env = base_env(tmp_path)
    port, public = free_port(), free_port()
    env.update(
        {
            "BACKOFFICE_PORT": str(port),
            "BACKOFFICE_PUBLIC_PORT": str(public),
            "BACKOFFICE_URL": f"http://127.0.0.1:{port}",
        }
    )
    service = Service(
        "backoffice",
        [sys.executable, "-m", "backoffice"],
        env,
        tmp_path,
        ready=http_ok(f"http://127.0.0.1:{port}/health"),
    )
    service.start()
    yield service, env
    service.stop()


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return sock.recv(4096)


def _checkout_token(env: dict[str, str]) -> str:
    api = httpx.Client(
        base_url=env["BACKOFFICE_URL"],
        headers={"X-API-Key": env["BACKOFFICE_API_KEY"], "X-Channel-User": "telegram:990001"},
        timeout=10,
    )
    with api:
        code = api.post("/v1/link-codes", json={"fiscal_code": MARIO}).json()["code"]
        api.post("/v1/channel-links", json={"code": code}).raise_for_status()
        position = next(t for t in api.get("/v1/taxes").json()["taxes"] if t["payable"])
        notice = api.post(f"/v1/taxes/{position['id']}/notice").json()
    return str(notice["checkout_url"]).rsplit("/", 1)[1]


def test_the_back_office_logs_a_malformed_request_without_its_token(
    backoffice: tuple[Service, dict[str, str]],
) -> None:
    service, env = backoffice
    token = _checkout_token(env)
    public = int(env["BACKOFFICE_PUBLIC_PORT"])
    file_token = "42.1893456000.c2lnbmF0dXJlLW9mLWEtZmlsZS1saW5r"
    desk_token = "QRtokenOfTheDesk0123"
    for line in (
        f"GET /checkout/{token}\x01 HTTP/1.1",
        f"GET /files/{file_token}\x01 HTTP/1.1",
        f"GET /appointments/verify/CE-7K3P?t={desk_token}\x01 HTTP/1.1",
    ):
        answer = _raw(public, line.encode("latin-1") + b"\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
    assert httpx.get(f"http://127.0.0.1:{public}/checkout/{token}", timeout=10).status_code == 200

    service.stop()
    log = service.log_path.read_text(errors="replace")
    assert "Error handling request" in log, "the error path was logged"
    for secret in (token, file_token, desk_token):
        assert secret not in log


async def test_the_bot_logs_a_failed_download_without_its_link() -> None:
    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=410)

    app = web.Application()
    app.router.add_get("/files/{token}", gone)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    token = "7.1893456000.dG9rZW4tb2YtYS1jZXJ0aWZpY2F0ZQ"
    root = logging.getLogger()
    saved: tuple[list[logging.Handler], int] = (root.handlers[:], root.level)
    written = io.StringIO()
    try:
        configure_logging(stream=written)  # as `python -m bot` does
        async with aiohttp.ClientSession() as session:
            renderer = Renderer(bot=None, session=session)  # type: ignore[arg-type]
            try:
                await renderer.render(
                    1, [{"custom": {"document_url": str(server.make_url(f"/files/{token}"))}}]
                )
            except aiohttp.ClientResponseError as error:
                context: Any = SimpleNamespace(error=error)
                await report_error(None, context)
            else:
                raise AssertionError("the download did not fail")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        await server.close()

    log = written.getvalue()
    assert "Unhandled ClientResponseError" in log and "410" in log
    assert token not in log and "/files/[redacted]" in log


def test_redaction_blanks_every_kind_of_link_token() -> None:
    line = (
        "GET https://comune.example/checkout/AbC-_12 /receipts/5.17.xy_Z /files/1.2.sig "
        "/appointments/verify/CE-7K3P?t=QRtok&x=1 https://api.telegram.org/bot424242:E2E-TOKEN/getMe"
    )
    assert redact(line) == (
        "GET https://comune.example/checkout/[redacted] /receipts/[redacted] /files/[redacted] "
        "/appointments/verify/CE-7K3P?t=[redacted]&x=1 https://api.telegram.org/bot[redacted]/getMe"
    )
