"""`make run` without a token: the whole stack and a terminal chat, as the README tells a newcomer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.stack import ROOT, base_env, free_port


def test_the_local_chat_greets_answers_and_presses_buttons(tmp_path: Path) -> None:
    # Ports of its own, so another stack running on this machine (make run) changes nothing.
    telegram_port = free_port()
    env = {
        **base_env(tmp_path),
        "BACKOFFICE_PORT": str(free_port()),
        "BACKOFFICE_PUBLIC_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "LOCALCHAT_TELEGRAM_PORT": str(telegram_port),
    }
    env["BACKOFFICE_URL"] = f"http://127.0.0.1:{env['BACKOFFICE_PORT']}"
    env.pop("TELEGRAM_BOT_TOKEN", None)
    typed = "a che ora apre il comune?\n2\nesci\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.localchat"],
        cwd=ROOT,
        env=env,
        input=typed,
        capture_output=True,
        text=True,
        timeout=420,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "assistente automatico del Comune di Cerveteri" in out
    assert "] 🙋 Parla con una persona" in out
    assert "Orari degli uffici aperti al pubblico" in out
    assert "(premi: 🏠 Menu)" in out
    assert out.count("Cosa vuoi fare?") >= 2
    # The stack it started is gone with it: nothing listens on the local Telegram port.
    leftover = subprocess.run(["pgrep", "-f", f"localtelegram --port {telegram_port}"], capture_output=True)
    assert leftover.returncode == 1, "the local stack kept running after the chat ended"
    assert os.path.exists(tmp_path / "backoffice.db")


def test_a_taken_port_is_named_in_one_line_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**base_env(tmp_path), "ACTION_SERVER_PORT": str(port),
               "LOCALCHAT_TELEGRAM_PORT": str(free_port())}
        done = subprocess.run([sys.executable, "-m", "bot.localchat"], cwd=ROOT, env=env, input="",
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"La porta {port} (action server (ACTION_SERVER_PORT)) è già in uso: "
        "ferma l'altro processo o scegli un'altra porta."
    )
    assert "Traceback" not in done.stdout + done.stderr
