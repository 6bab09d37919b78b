"""Talk to the assistant from a terminal, with no Telegram token: `make run` without a token.

The whole stack runs as in production (back office, action server, Rasa, the same bot code);
only Telegram is replaced by the local Bot API server of the tests, and this terminal plays the
citizen's phone. Type a message, or the number of a button to press it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from localtelegram import BotApiDriver, BotApiTimeout, BotMessage, TelegramUser
from sportello.ports import exit_if_taken, wanted_ports
from sportello.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_PORT = int(os.environ.get("LOCALCHAT_TELEGRAM_PORT", "8081"))
TELEGRAM_URL = f"http://127.0.0.1:{TELEGRAM_PORT}"
LOG = ROOT / "var" / "log" / "stack.log"
FILES = ROOT / "var" / "localchat"


def wait_for(what: str, check: Callable[[], bool], timeout: float, stack: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            sys.exit(f"Lo stack si è fermato: guarda {LOG}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    sys.exit(f"{what} non risponde dopo {timeout:.0f} s: guarda {LOG}")


def rasa_ready() -> bool:
    response = httpx.post(
        f"{get_settings().rasa_url.rstrip('/')}/webhooks/rest/webhook",
        json={"sender": "localchat-probe", "message": "/main_menu"},
        timeout=5,
    )
    return response.status_code == 200 and bool(response.json())


def show(message: BotMessage) -> list[str]:
    """Print one bot message as a phone would show it; return its buttons."""
    if message.kind in ("photo", "document"):
        FILES.mkdir(parents=True, exist_ok=True)
        name = message.file_name or f"{message.kind}-{message.message_id}.png"
        path = FILES / name
        path.write_bytes(message.download())
        print(f"  [{message.kind}: {path.relative_to(ROOT)}]")
    if message.content:
        for line in message.content.splitlines():
            print(f"  {line}")
    for number, title in enumerate(message.buttons, start=1):
        print(f"    [{number}] {title}")
    return message.buttons


def converse(citizen: TelegramUser) -> None:
    buttons: list[str] = []
    citizen.send("/start")
    while True:
        try:
            replies = citizen.wait_replies(1, timeout=40, settle=0.8)
        except BotApiTimeout:
            print("  (nessuna risposta)")
            replies = []
        for message in replies:
            if message.kind in ("text", "photo", "document"):
                buttons = show(message) or buttons
        try:
            line = input("tu> ").strip()
        except EOFError:
            return
        if line.lower() in {"esci", "exit", "quit"}:
            return
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            print(f"  (premi: {buttons[int(line) - 1]})")
            citizen.press(buttons[int(line) - 1])
        elif line:
            citizen.send(line)


def main() -> None:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    exit_if_taken(wanted_ports(get_settings(), TELEGRAM_PORT))
    print("Avvio back office, action server, Rasa e bot (circa un minuto)…")
    env = dict(os.environ)
    with LOG.open("ab") as log:
        stack = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-f", "Procfile.local"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_for(
            "Il Telegram locale",
            lambda: httpx.get(f"{TELEGRAM_URL}/_control/info", timeout=2).is_success,
            60,
            stack,
        )
        wait_for("Rasa", rasa_ready, 240, stack)
        driver = BotApiDriver(TELEGRAM_URL)
        wait_for("Il bot", lambda: bool(driver.calls("getUpdates")), 60, stack)
        print("Pronto. Scrivi un messaggio, o il numero di un pulsante; «esci» per uscire.\n")
        converse(driver.user(1, first_name="Cittadino"))
    except KeyboardInterrupt:
        pass
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(30)


if __name__ == "__main__":
    main()
