"""`make bench`: the project's performance record, every figure a ratio within one run.

1. turns through the whole stack (local Telegram → bot → Rasa → actions → back office) beside
   Rasa's own Telegram connector on the same Rasa server and bare Rasa REST: sequential, then
   10, 50 and 200 chats writing at once;
2. fan-out of 10,000 reminders through the outbox and the bot, against Telegram's 30/s;
3. memory of each process at rest and after the runs; the model's training time;
4. turns a second through the production topology with 1 and with 2 replicas of each process
   (tests/bench/replicas.py) — 3 and 4 run while the fan-out does, which Telegram's pace holds,
   not the CPU.
Writes results/bench.json and results/bench-*.png; prints the README's table and, last, the
ratios. BENCH_ROUNDS, BENCH_LEVELS (10,50,200), BENCH_FANOUT (10000), BENCH_TRAIN=0 and BENCH_REPLICAS= (1,2) make it smaller;
BENCH_PROFILE=1 samples the bot with py-spy while the turns run (results/bench-bot-profile.txt,
collapsed stacks: `sort -t' ' -k2 -n` or any flame-graph viewer reads them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import yaml

from tests.bench import report
from tests.bench.fanout import run_fanout
from tests.bench.harness import Control, LocalTelegram, memory_mb
from tests.bench.replicas import run_replicas
from tests.bench.turns import RestPath, TelegramPath, run_turns
from tests.stack import ROOT, Service, Stack, add_staff_group, start_bot, start_stack

OURS_TOKEN = "111111:BENCH-SPORTELLO"
RASA_TOKEN = "222222:BENCH-RASA-CONNECTOR"
BOT_USERNAME = "sportello_test_bot"  # the local server's default; Rasa's connector checks it


def rasa_credentials(tmp: Path, telegram: LocalTelegram) -> Any:
    def write(rasa_port: int) -> Path:
        path = tmp / "credentials.yml"
        path.write_text(yaml.safe_dump({
            "rest": None,
            "tests.bench.rasa_telegram.LocalTelegramInput": {
                "access_token": telegram.token,
                "verify": BOT_USERNAME,
                "webhook_url": f"http://127.0.0.1:{rasa_port}/webhooks/telegram/webhook",
                "base_url": telegram.url,
            },
        }), encoding="utf-8")
        return path
    return write


def memory(stack: Stack, bot: Service) -> dict[str, Any]:
    """Each process's memory; the share of Rasa's is by PSS, the same measure on both sides."""
    def pid(service: Service) -> int:
        assert service.process is not None
        return service.process.pid

    measured = {name: memory_mb(pid(service)) for name, service in
                (("rasa", stack.rasa), ("actions", stack.actions), ("backoffice", stack.backoffice), ("bot", bot))}
    result: dict[str, Any] = {}
    for measure in ("pss", "uss", "rss"):
        values = {name: m[measure] for name, m in measured.items()}
        ours = values["actions"] + values["backoffice"] + values["bot"]
        result[measure] = {**values, "ours": round(ours, 1), "share_of_rasa": round(ours / values["rasa"], 3)}
    result["share_of_rasa"] = result["pss"]["share_of_rasa"]
    return result


@contextlib.contextmanager
def profiled(bot: Service) -> Iterator[None]:
    """With BENCH_PROFILE=1, py-spy samples the bot (every thread, native frames off) meanwhile."""
    if os.environ.get("BENCH_PROFILE") != "1" or bot.process is None:
        yield
        return
    out = ROOT / "results" / "bench-bot-profile.txt"
    out.parent.mkdir(exist_ok=True)
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(bot.process.pid), "--format", "raw",
         "--rate", "200", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


def training_seconds(tmp: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "rasa"), "train", "--config", "config.yml", "--domain", "nlu/domain",
         "--data", "nlu/data", "--out", str(tmp / "models"), "--fixed-model-name", "bench"],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # A cache of its own: Rasa's (.rasa/cache) would hand back every component already trained.
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
             "RASA_CACHE_DIRECTORY": str(tmp / "cache")},
    )
    return round(time.monotonic() - started, 1)


def beside_the_fanout() -> tuple[float | None, dict[str, Any] | None]:
    training = (
        training_seconds(Path(tempfile.mkdtemp(prefix="sportello-train-")))
        if os.environ.get("BENCH_TRAIN", "1") != "0" else None
    )
    counts = [int(x) for x in os.environ.get("BENCH_REPLICAS", "1,2").split(",") if x.strip()]
    replicas = (
        run_replicas(Path(tempfile.mkdtemp(prefix="sportello-replicas-")), counts,
                     chats=int(os.environ.get("BENCH_REPLICA_CHATS", "30")), seconds=20)
        if counts else None
    )
    return training, replicas


async def measure(stack: Stack, bot: Service, ours: LocalTelegram, theirs: LocalTelegram) -> dict[str, Any]:
    rounds = int(os.environ.get("BENCH_ROUNDS", "20"))
    levels = [int(x) for x in os.environ.get("BENCH_LEVELS", "10,50,200").split(",")]
    fanout_count = int(os.environ.get("BENCH_FANOUT", "10000"))
    results: dict[str, Any] = {"memory": {"rest": memory(stack, bot)}}
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=400)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        ours_control = Control(session, ours)
        paths = [
            TelegramPath(report.OURS, ours_control),
            TelegramPath(report.RASA_TELEGRAM, Control(session, theirs)),
            RestPath(session, stack.env["RASA_URL"]),
        ]
        started = time.monotonic()
        with profiled(bot):
            results["turns"] = await run_turns(paths, rounds=rounds, levels=levels)  # type: ignore[arg-type]
        results["turns"]["seconds"] = round(time.monotonic() - started, 1)
        print(f"turni misurati in {results['turns']['seconds']} s", flush=True)
        # The model trains, then the production topology is measured, while the fan-out runs: the
        # fan-out is held to Telegram's 30 a second, not by the CPU, and the run stays within ten
        # minutes. BENCH_TRAIN=0 and BENCH_REPLICAS= skip them.
        meanwhile = asyncio.create_task(asyncio.to_thread(beside_the_fanout))
        results["fanout"] = await run_fanout(ours_control, session, stack.env, fanout_count, timeout=900)
        print(f"avvisi: {results['fanout']['seconds']} s", flush=True)
        results["training_seconds"], results["replicas"] = await meanwhile
    results["memory"]["after"] = memory(stack, bot)
    return results


def main() -> int:
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="sportello-bench-"))
    ours = LocalTelegram(OURS_TOKEN, tmp).start()
    theirs = LocalTelegram(RASA_TOKEN, tmp).start()
    stack: Stack | None = None
    bot: Service | None = None
    try:
        stack = start_stack(tmp, credentials=rasa_credentials(tmp, theirs), rasa_ready_timeout=600,
                            # As in production (sportello/production.py, deploy/): for Rasa too.
                            PYTHONPATH=str(ROOT), MALLOC_ARENA_MAX="2")
        add_staff_group(ours)  # type: ignore[arg-type]
        (tmp / "bot").mkdir()
        bot = start_bot(stack, ours, tmp / "bot")  # type: ignore[arg-type]
        results = asyncio.run(measure(stack, bot, ours, theirs))
    finally:
        if bot is not None:
            bot.stop()
        if stack is not None:
            stack.stop()
        ours.stop()
        theirs.stop()
    results["machine"] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": platform.platform(terse=True),
    }
    results["seconds"] = round(time.monotonic() - began, 1)
    results["ratios"] = report.ratios(results)
    path = report.write(results, ROOT / "results")
    print(report.table(results))
    print(f"scritto {path.relative_to(ROOT)} e i grafici; {results['seconds']:.0f} s in tutto")
    print(report.ratio_line(results["ratios"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
