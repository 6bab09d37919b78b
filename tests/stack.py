"""Start the real processes of the assistant on loopback for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from localtelegram import BotApiDriver, BotApiServerThread

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
STAFF_CHAT_ID = -1001234567890


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def http_ok(url: str, method: str = "GET", **kwargs: object) -> Callable[[], bool]:
    def check() -> bool:
        response = httpx.request(method, url, timeout=5, **kwargs)  # type: ignore[arg-type]
        return response.status_code == 200

    return check


def rasa_answers(base_url: str) -> Callable[[], bool]:
    """Rasa listens before its model is loaded and answers nothing until then."""

    def check() -> bool:
        response = httpx.post(
            f"{base_url}/webhooks/rest/webhook",
            json={"sender": "readiness-probe", "message": "/main_menu"},
            timeout=10,
        )
        return response.status_code == 200 and bool(response.json())

    return check


@dataclass
class Service:
    """One process of the stack, with its log in a file so a failing test can show it."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_dir: Path
    ready: Callable[[], bool] | None = None
    ready_timeout: float = 60.0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        if self.ready is not None:
            try:
                wait_until(self._ready_or_dead, self.ready_timeout, self.name)
            except TimeoutError as error:
                raise TimeoutError(f"{error}\n--- {self.name} log ---\n{self.tail()}") from None

    def _ready_or_dead(self) -> bool:
        assert self.process is not None and self.ready is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited early\n--- log ---\n{self.tail()}")
        return self.ready()

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def kill(self) -> None:
        """`kill -9`: the process dies without a chance to save or close anything."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    """Back office, action server and Rasa, each a real process on a free loopback port."""

    env: dict[str, str]
    backoffice: Service
    actions: Service
    rasa: Service

    def stop(self) -> None:
        for service in (self.rasa, self.actions, self.backoffice):
            service.stop()


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'backoffice.db'}",
            # Rasa's tracker store of this run, and the same file as the back office reaches it.
            "TRACKER_STORE_URL": f"sqlite+aiosqlite:///{tmp / 'rasa-tracker.db'}",
            # The session's bot keeps its state (handoff tickets too) here, where the back
            # office's cruscotto and Conversazioni read it.
            "BOT_STATE_DIR": str(tmp / "bot"),
            "BACKOFFICE_API_KEY": "test-service-key",
            "BACKOFFICE_FILE_SECRET": "test-file-link-secret",
            "ACTION_SERVER_TOKEN": "test-action-server-token",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            # Tests run the reminder jobs themselves, at the time they choose.
            "APPOINTMENT_REMINDER_INTERVAL_SECONDS": "0",
            "PAYMENT_REMINDER_INTERVAL_SECONDS": "0",
            "WASTE_REMINDER_INTERVAL_SECONDS": "0",
        }
    )
    return env


def start_stack(
    tmp: Path, *, credentials: Callable[[int], Path] | None = None, rasa_ready_timeout: float = 180.0,
    **extra_env: str,
) -> Stack:
    """The stack on free ports; `credentials(rasa_port)` gives Rasa other input channels (the bench's)."""
    env = base_env(tmp)
    env.update(extra_env)
    bo_port, public_port, actions_port, rasa_port = free_port(), free_port(), free_port(), free_port()
    env.update(
        {
            "BACKOFFICE_PORT": str(bo_port),
            "BACKOFFICE_PUBLIC_PORT": str(public_port),
            "ACTION_SERVER_PORT": str(actions_port),
            "BACKOFFICE_URL": f"http://127.0.0.1:{bo_port}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}/webhook",
            "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        }
    )
    backoffice = Service(
        "backoffice",
        [sys.executable, "-m", "backoffice"],
        env,
        tmp,
        ready=http_ok(f"http://127.0.0.1:{bo_port}/health"),
    )
    actions = Service(
        "actions",
        [sys.executable, "-m", "actions"],
        env,
        tmp,
        ready=http_ok(f"http://127.0.0.1:{actions_port}/health"),
    )
    rasa = Service(
        "rasa",
        [
            sys.executable, "-m", "sportello.run_rasa", "run", "--model", str(MODEL), "--port", str(rasa_port),
            "--interface", "127.0.0.1", "--credentials", str(credentials(rasa_port) if credentials else ROOT / "credentials.yml"),
            "--endpoints", "endpoints.yml",
        ],
        env,
        tmp,
        ready=rasa_answers(f"http://127.0.0.1:{rasa_port}"),
        ready_timeout=rasa_ready_timeout,
    )
    stack = Stack(env=env, backoffice=backoffice, actions=actions, rasa=rasa)
    try:
        backoffice.start()
        actions.start()
        rasa.start()
    except BaseException:
        stack.stop()
        raise
    return stack


def rasa_turn(
    stack: Stack, sender: str, message: str, metadata: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One turn through Rasa's REST channel, as the bot makes it."""
    response = httpx.post(
        f"{stack.env['RASA_URL']}/webhooks/rest/webhook",
        json={"sender": sender, "message": message, "metadata": metadata or {}},
        timeout=30,
    )
    response.raise_for_status()
    answers = response.json()
    assert isinstance(answers, list)
    return answers


def backoffice_api(stack: Stack, channel_user: str | None = None) -> httpx.Client:
    """The back office as the portal, the staff page or a test sees it."""
    headers = {"X-API-Key": stack.env["BACKOFFICE_API_KEY"]}
    if channel_user:
        headers["X-Channel-User"] = channel_user
    return httpx.Client(base_url=stack.env["BACKOFFICE_URL"], headers=headers, timeout=15)


def mint_link_code(stack: Stack, fiscal_code: str) -> str:
    """The portal's part: a citizen proven by SPID/CIE gets a one-time code."""
    with backoffice_api(stack) as api:
        response = api.post("/v1/link-codes", json={"fiscal_code": fiscal_code})
        response.raise_for_status()
        return str(response.json()["code"])


def add_staff_group(telegram: BotApiServerThread) -> None:
    """The comune's staff group, a forum where each handoff opens a topic."""
    with BotApiDriver(telegram.url) as driver:
        driver.group(STAFF_CHAT_ID, "Staff URP Cerveteri", forum=True)


def start_bot(stack: Stack, telegram: BotApiServerThread, state_dir: Path, **env: str) -> Service:
    """Start `python -m bot` against the local Bot API server; ready once it polls."""
    bot_env = dict(stack.env)
    bot_env.update(
        {
            "TELEGRAM_API_URL": telegram.url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "BOT_STATE_DIR": str(state_dir),
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            **env,
        }
    )

    def polling() -> bool:
        # Polling calls made after this start, so a restarted bot is really back.
        with BotApiDriver(telegram.url) as driver:
            return len(driver.calls("getUpdates")) > calls_before

    with BotApiDriver(telegram.url) as driver:
        calls_before = len(driver.calls("getUpdates"))
    service = Service("bot", [sys.executable, "-m", "bot"], bot_env, state_dir, ready=polling)
    service.start()
    return service
