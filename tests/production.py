"""The production topology, started for tests and for `make chaos`: REPLICAS of each process
behind HAProxy under supervisord, on PostgreSQL and Redis, Telegram by webhook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from localtelegram import BotApiDriver, BotApiServerThread
from tests.stack import ROOT, base_env, free_port, wait_until

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
SECRET = "production-topology-webhook-secret"


def _free_range(size: int) -> int:
    for _ in range(200):
        base = random.randrange(20_000, 40_000, 100)
        if all(_port_free(base + n) for n in range(size)):
            return base
    raise RuntimeError("no free range of ports")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Production:
    env: dict[str, str]
    dir: Path
    process: subprocess.Popen[bytes]
    telegram: BotApiServerThread
    base_port: int

    def bot_health(self, replica: int, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.base_port + 50 + replica}{path}", timeout=10)

    def ctl(self, *args: str) -> str:
        done = subprocess.run(
            [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(self.dir / "supervisord.conf"), *args],
            capture_output=True, text=True, check=False, timeout=30,
        )
        return done.stdout

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program).strip() or 0)

    def stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's `show stat`, by proxy/server."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.dir / "haproxy.sock"))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().strip().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
        return {f"{row['pxname']}/{row['svname']}": row for row in rows}

    def up(self, backend: str) -> int:
        servers = [row for row in self.stats().values() if row["pxname"] == backend and row["svname"] not in ("FRONTEND", "BACKEND")]
        return sum(1 for row in servers if row["status"] == "UP")

    def log(self, program: str) -> str:
        path = self.dir / "logs" / f"{program}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


async def _databases(*names: str, drop: bool = False) -> None:
    admin = await asyncpg.connect(f"{POSTGRES}/test", timeout=5)
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


@contextlib.contextmanager
def start_production(tmp: Path, replicas: int = 2) -> Iterator[Production]:
    """The topology of `make run-production` on this machine's PostgreSQL and Redis, with
    fresh databases and a local Bot API server pushing updates by webhook; stopped after."""
    suffix = secrets.token_hex(4)
    databases = [f"sportello_{suffix}", f"rasa_{suffix}", f"handoff_{suffix}"]
    asyncio.run(_databases(*databases))
    telegram = BotApiServerThread(token="626262:PRODUCTION-TOPOLOGY").start()
    front = {kind: free_port() for kind in ("backoffice", "public", "actions", "rasa", "bot")}
    env = base_env(tmp)
    env.update(
        {
            "DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{databases[0]}",
            "TRACKER_STORE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{databases[1]}",
            "HANDOFF_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{databases[2]}",
            "REDIS_URL": "redis://127.0.0.1:6379/4",
            "BACKOFFICE_PORT": str(front["backoffice"]),
            "BACKOFFICE_URL": f"http://127.0.0.1:{front['backoffice']}",
            "BACKOFFICE_PUBLIC_PORT": str(front["public"]),
            "ACTION_SERVER_PORT": str(front["actions"]),
            "ACTION_SERVER_URL": f"http://127.0.0.1:{front['actions']}/webhook",
            "RASA_URL": f"http://127.0.0.1:{front['rasa']}",
            "WEBHOOK_URL": f"http://127.0.0.1:{front['bot']}/telegram",
            "WEBHOOK_PORT": str(front["bot"]),
            "WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_URL": telegram.url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "STAFF_CHAT_ID": "-1001234567890",
        }
    )
    out = tmp / "run"
    log = (tmp / "production.log").open("wb")
    base_port = _free_range(60)
    process = subprocess.Popen(
        [sys.executable, "-m", "sportello.production", "run", str(out), "--replicas", str(replicas),
         "--base-port", str(base_port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    running = Production(env, out, process, telegram, base_port)
    driver = BotApiDriver(telegram.url)
    try:
        wait_until(lambda: (out / "haproxy.sock").exists(), 120, "HAProxy")
        for backend in ("backoffice", "actions", "rasa", "bot"):
            wait_until(lambda b=backend: running.up(b) == replicas, 400, f"{backend} replicas up")  # type: ignore[misc]
        wait_until(lambda: len(driver.calls("setWebhook")) >= replicas, 60, "every bot set the webhook")
        yield running
    except BaseException:
        print((tmp / "production.log").read_text(errors="replace")[-3000:])
        for name in ("rasa-1", "bot-1", "backoffice-1"):
            print(f"--- {name}\n{running.log(name)}")
        raise
    finally:
        driver.close()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        telegram.stop()
        asyncio.run(_databases(*databases, drop=True))


def link_code(production: Production, fiscal_code: str) -> str:
    response = httpx.post(
        production.env["BACKOFFICE_URL"] + "/v1/link-codes", json={"fiscal_code": fiscal_code},
        headers={"X-API-Key": production.env["BACKOFFICE_API_KEY"]}, timeout=15,
    )
    response.raise_for_status()
    return str(response.json()["code"])


def said(production: Production, user_id: int) -> str:
    with BotApiDriver(production.telegram.url) as driver:
        return "\n".join(json.dumps(m, ensure_ascii=False) for m in driver.messages(user_id))
