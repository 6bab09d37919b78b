"""`make run` without a token: the whole stack and a terminal chat, as the README tells a newcomer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.stack import ROOT, base_env


def test_the_local_chat_greets_answers_and_presses_buttons(tmp_path: Path) -> None:
    env = {**base_env(tmp_path), "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook"}
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
    leftover = subprocess.run(["pgrep", "-f", "tests.botapi --port 8081"], capture_output=True)
    assert leftover.returncode == 1, "the local stack kept running after the chat ended"
    assert os.path.exists(tmp_path / "backoffice.db")
