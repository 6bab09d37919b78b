"""`make chaos`: conversations and a burst of notifications on the production topology while one
replica of each kind is killed with `kill -9`, PostgreSQL drops every connection of the back
office, and Telegram answers 429 and 500. Then it counts: conversations completed, forms
resumed after a failed turn, notifications expected / delivered / duplicated / lost, and exits
non-zero on any loss. The test suite runs the same scenario (tests/test_production_topology.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

import asyncpg
import httpx

from actions.when import rome_today
from localtelegram import BotApiDriver, TelegramUser
from tests.production import POSTGRES, Production, link_code, start_production
from tests.test_actions_through_rasa import MARIO
from tests.test_chat_e2e import answers

# The form walked by each citizen, by taps after the first message: (send, what the bot shows next).
STEPS = (
    ("text", "vorrei un certificato di residenza", "👤 Sono io"),
    ("press", "👤 Sono io", "in bollo"),
    ("press", "in bollo", "✅ Confermo e invio"),
    ("press", "✅ Confermo e invio", "Numero di protocollo"),
)
# What each notice of a pratica says, once per status change.
CHANGES = (("in_istruttoria", "in esame"), ("accolta", "accolta"))
UNAVAILABLE = "non riesco"


@dataclass
class Report:
    conversations: int = 0
    completed: int = 0
    resumed: int = 0
    carried: int = 0
    expected: int = 0
    delivered: int = 0
    duplicated: int = 0
    faults: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.expected - self.delivered

    def line(self) -> str:
        return (
            f"conversations {self.completed}/{self.conversations} completed, {self.resumed} forms resumed, "
            f"{self.carried} went on past a kill -9 in their middle; "
            f"notifications expected {self.expected} delivered {self.delivered} "
            f"duplicated {self.duplicated} lost {self.lost}; faults: {', '.join(self.faults)}"
        )


def _kill(production: Production, program: str, report: Report) -> None:
    pid = production.pid(program)
    if pid:
        os.kill(pid, signal.SIGKILL)
        report.faults.append(f"kill -9 {program}")


def _bot_sessions(production: Production) -> dict[str, int]:
    stats = production.stats()
    return {name.split("/")[1]: int(row["stot"]) for name, row in stats.items() if name.startswith("bot/bot-")}


def _serving(production: Production, before: dict[str, int]) -> str:
    """The bot replica HAProxy gave the person's last update to."""
    after = _bot_sessions(production)
    return max(after, key=lambda name: after[name] - before.get(name, 0))


async def _drop_connections(database: str) -> int:
    admin = await asyncpg.connect(f"{POSTGRES}/test", timeout=5)
    try:
        rows = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        return len(rows)
    finally:
        await admin.close()


def _step(citizen: TelegramUser, kind: str, what: str, expect: str, report: Report) -> bool:
    """One step of the form; a turn lost to a fault is tried again, as a citizen would."""
    for attempt in range(4):
        if kind == "text":
            citizen.send(what)
        else:
            citizen.press(what)
        said = answers(citizen, timeout=60)
        shown = " ".join(m.content + " " + " ".join(m.buttons) for m in said)
        if expect in shown:
            if attempt:
                report.resumed += 1
            return True
        if UNAVAILABLE not in shown:
            return False
        time.sleep(2)
    return False


def _retried(call: Callable[[], httpx.Response], tries: int = 6) -> httpx.Response:
    """A clerk's (or the portal's) call, tried again while the back office is recovering."""
    for attempt in range(tries):
        try:
            response = call()
            if response.status_code < 500 or attempt == tries - 1:
                response.raise_for_status()
                return response
        except httpx.TransportError:
            if attempt == tries - 1:
                raise
        time.sleep(1)
    raise AssertionError("unreachable")


def _submit(api: httpx.Client, person: TelegramUser) -> str:
    start = rome_today() + timedelta(days=10)
    body = {
        "practice_type": "occupazione_suolo",
        "data": {
            "purpose": "trasloco", "address": "Via Settevene Palo 3", "area_m2": "20",
            "start_date": start.isoformat(), "end_date": (start + timedelta(days=1)).isoformat(),
        },
    }
    key = str(uuid.uuid4())
    response = _retried(lambda: api.post(
        "/v1/practices", json=body,
        headers={"Idempotency-Key": key, "X-Channel-User": f"telegram:{person.user_id}"},
    ))
    return str(response.json()["protocol_number"])


def run_chaos(production: Production, citizens: int = 6) -> Report:
    """The scenario on a running topology; the report says what survived."""
    report = Report(conversations=citizens)
    api = httpx.Client(
        base_url=production.env["BACKOFFICE_URL"], headers={"X-API-Key": production.env["BACKOFFICE_API_KEY"]},
        timeout=30,
    )
    database = production.env["DATABASE_URL"].rsplit("/", 1)[1]
    with BotApiDriver(production.telegram.url) as driver, api:
        people = [driver.user(960_000 + n, first_name="Mario") for n in range(citizens)]
        for person in people:
            person.send(f"/start {link_code(production, MARIO)}")
            answers(person, 2, timeout=60)
        # Conversations, each with one replica killed in the middle of its form: Rasa, the bot
        # that showed the form's buttons (the next tap goes to the other bot replica, which reads
        # their meaning from the shared database), the actions, the back office, the bot again.
        faults = iter(("rasa-1", "bot", "actions-1", "backoffice-1", "bot"))
        protocols: list[str] = []
        for person in people:
            done, killed = True, False
            for step, (kind, what, expect) in enumerate(STEPS):
                before = _bot_sessions(production)
                done = done and _step(person, kind, what, expect, report)
                if step == 0 and (program := next(faults, None)):
                    _kill(production, _serving(production, before) if program == "bot" else program, report)
                    killed = True
            if done:
                report.completed += 1
                report.carried += killed
        # A certificate is issued at once; a pratica the office examines is what it notifies on.
        protocols = [_submit(api, person) for person in people]
        # The burst: every change of every new pratica to every chat linked to its owner,
        # while Telegram throttles and fails, PostgreSQL drops the back office's connections
        # and a bot replica dies.
        driver.throttle(10, retry_after=1)
        driver.fail("sendMessage", count=5, error_code=500, description="Internal Server Error")
        report.faults += ["429 ×10", "500 ×5"]
        for target, _ in CHANGES:
            for protocol in protocols:
                _retried(partial(
                    api.post, f"/v1/staff/practices/{protocol}/transitions", json={"to": target},
                    headers={"X-Staff-User": "Ufficio tecnico"},
                ))
            if target == CHANGES[0][0]:
                dropped = asyncio.run(_drop_connections(database))
                report.faults.append(f"{dropped} PostgreSQL connections dropped")
                _kill(production, "bot-2", report)
        report.expected = len(protocols) * len(CHANGES) * len(people)
        _settle(api)
        for person in people:
            seen = Counter(
                (protocol, label)
                for m in driver.messages(person.user_id)
                for protocol in protocols
                for _, label in CHANGES
                if protocol in str(m.get("text", "")) and label in str(m.get("text", ""))
            )
            report.delivered += sum(min(count, 1) for count in seen.values())
            report.duplicated += sum(count - 1 for count in seen.values() if count > 1)
    return report


def _settle(api: httpx.Client, timeout: float = 240.0) -> None:
    """Until the outbox has nothing pending (or the time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api.get("/v1/deliveries").json()["counts"]["pending"] == 0:
                time.sleep(3)  # the last ones marked sent are on Telegram's side already
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp, start_production(Path(tmp)) as production:
        report = run_chaos(production)
    print(report.line())
    sys.exit(1 if report.lost or report.completed < report.conversations else 0)


if __name__ == "__main__":
    main()
