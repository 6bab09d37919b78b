"""The first account of a new comune is made from the command line; the password never is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.stack import ROOT


def staff_user(tmp_path: Path, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BACKOFFICE_", "SEED_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "SEED_DEMO_DATA": "false",
        "STAFF_USER_PASSWORD": password,
    }
    return subprocess.run(
        [sys.executable, "-m", "backoffice", "staff-user", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def test_the_first_admin_is_made_from_the_command_line_with_a_strong_password(tmp_path: Path) -> None:
    weak = staff_user(tmp_path, "Anna.Sindaca", "--display-name", "Anna Sindaca", "--role", "admin", password="corta")
    made = staff_user(
        tmp_path, "Anna.Sindaca", "--display-name", "Anna Sindaca", "--role", "admin", password="una frase lunga 2026"
    )
    twice = staff_user(tmp_path, "anna.sindaca", "--display-name", "Anna", password="una frase lunga 2026")

    assert weak.returncode != 0 and "almeno 12 caratteri" in weak.stderr
    assert made.returncode == 0 and "Account anna.sindaca creato (admin)." in made.stdout
    assert twice.returncode != 0 and "Questo nome utente esiste già." in twice.stderr
    for run in (weak, made, twice):
        assert "una frase lunga" not in run.stdout + run.stderr
