"""What every part of `make bench` shares: local Telegram servers, timing from their calls, memory."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from tests.stack import ROOT, free_port, http_ok, wait_until

JSON = dict[str, Any]


def percentiles(values: Iterable[float]) -> JSON:
    """p50, p95, p99 and max in milliseconds (nearest-rank), and how many."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {
        "n": len(ordered),
        "p50_ms": round(rank(50) * 1000, 1),
        "p95_ms": round(rank(95) * 1000, 1),
        "p99_ms": round(rank(99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def memory_mb(pid: int) -> dict[str, float]:
    """What a process and its children hold, in MB: RSS (every page it maps, shared libraries
    counted whole in each process), PSS (each shared page divided among the processes sharing
    it: what the process costs the machine) and USS (the pages only it holds)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    totals = {"rss": 0, "pss": 0, "uss": 0}
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        for key in totals:
            totals[key] += getattr(info, key)
    return {key: round(value / 2**20, 1) for key, value in totals.items()}


@dataclass
class LocalTelegram:
    """A local Bot API server in its own process, so the bench's client does not share its loop."""

    token: str
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalTelegram:
        log = (self.log_dir / f"telegram-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localtelegram", "--port", str(self.port), "--token", self.token],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        wait_until(http_ok(f"{self.url}/_control/info"), 30, "local Bot API server")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Control:
    """The control API of one local Telegram, from asyncio."""

    def __init__(self, session: aiohttp.ClientSession, telegram: LocalTelegram) -> None:
        self._session = session
        self.url = telegram.url

    async def _post(self, path: str, body: JSON) -> Any:
        async with self._session.post(self.url + path, json=body) as response:
            data = await response.json()
        if not data.get("ok"):
            raise RuntimeError(f"control API {path}: {data}")
        return data["result"]

    async def add_users(self, user_ids: Iterable[int], parallel: int = 50, *, started: bool = False) -> None:
        slots = asyncio.Semaphore(parallel)

        async def add(user_id: int) -> None:
            async with slots:
                await self._post("/_control/users", {"id": user_id, "first_name": f"Cittadino {user_id}", "started": started})

        await asyncio.gather(*(add(user_id) for user_id in user_ids))

    async def send(self, user_id: int, text: str) -> float:
        """The citizen writes; returns when the local Telegram had it (the turn's start)."""
        started = time.time()
        await self._post("/_control/send", {"user_id": user_id, "type": "text", "text": text})
        return started

    async def calls(self, method: str, after: int = 0) -> list[JSON]:
        async with self._session.get(
            self.url + "/_control/calls", params={"method": method, "after": str(after)}
        ) as response:
            data = await response.json()
        return list(data["result"])

    async def last_seq(self) -> int:
        """The newest call's number: what comes after it belongs to the next measure."""
        async with self._session.get(self.url + "/_control/calls", params={"after": "0"}) as response:
            everything = (await response.json())["result"]
        return max([int(c["seq"]) for c in everything] + [0])


def sent_to(call: JSON) -> int | None:
    """The chat a sendMessage (or other send*) call wrote to."""
    chat = (call.get("params") or {}).get("chat_id")
    try:
        return int(chat)
    except (TypeError, ValueError):
        return None


async def replies_by_chat(
    control: Control, chats: set[int], after: int, *, settle: float = 0.3, timeout: float = 120.0
) -> dict[int, list[float]]:
    """Times of the bot's messages to each chat after `after`, once every chat has had one and
    nothing new came for `settle` seconds (so a turn's last message is in)."""
    deadline = time.monotonic() + timeout
    seen: dict[int, list[float]] = {}
    count, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        seen = {}
        calls = await control.calls("sendMessage", after)
        for call in calls:
            chat = sent_to(call)
            if chat in chats and call.get("ok"):
                seen.setdefault(chat, []).append(float(call["time"]))
        if len(calls) != count:
            count, quiet_since = len(calls), time.monotonic()
        elif chats <= seen.keys() and time.monotonic() - quiet_since >= settle:
            return seen
        await asyncio.sleep(0.05)
    missing = len(chats - seen.keys())
    raise TimeoutError(f"{missing} of {len(chats)} chats got no reply in {timeout:.0f} s")
