"""SPORTELLO_ENV=production: no process starts on a missing, default, short or reused secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from sportello.security import UnsafeSettings, problems, require_safe
from sportello.settings import Settings
from tests.stack import ROOT

STRONG = {
    "backoffice_api_key": "k" * 40,
    "backoffice_file_secret": "f" * 40,
    "action_server_token": "a" * 40,
    "webhook_secret": "w" * 40,
}


def production(**overrides: object) -> Settings:
    values: dict[str, object] = {name: SecretStr(value) for name, value in STRONG.items()}
    values.update(overrides)
    return Settings(_env_file=None, sportello_env="production", **values)  # type: ignore[call-arg, arg-type]


def test_development_accepts_the_documented_defaults() -> None:
    assert problems(Settings(_env_file=None)) == []  # type: ignore[call-arg]


def test_production_with_strong_distinct_secrets_starts() -> None:
    require_safe(production(webhook_url="https://bot.example.it/tg"))
    assert not production().seeds_demo_data


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("backoffice_api_key", "dev-backoffice-key", "BACKOFFICE_API_KEY ha il valore predefinito"),
        ("backoffice_file_secret", "dev-file-link-secret", "BACKOFFICE_FILE_SECRET ha il valore predefinito"),
        ("backoffice_file_secret", "corto", "BACKOFFICE_FILE_SECRET è più corto di 32 byte"),
        ("action_server_token", "dev-action-server-token", "ACTION_SERVER_TOKEN ha il valore predefinito"),
        ("action_server_token", "k" * 40, "ACTION_SERVER_TOKEN è uguale a BACKOFFICE_API_KEY"),
        ("backoffice_api_key", "", "BACKOFFICE_API_KEY non è impostato"),
    ],
)
def test_production_names_the_unsafe_secret(field: str, value: str, said: str) -> None:
    with pytest.raises(UnsafeSettings, match=said):
        require_safe(production(**{field: SecretStr(value)}))


def test_production_refuses_webhook_mode_without_a_secret_and_demo_data() -> None:
    found = problems(production(webhook_url="https://bot.example.it/tg", webhook_secret=None), ["bot"])
    assert found == ["WEBHOOK_SECRET non è impostato"]
    assert problems(production(seed_demo_data=True), ["backoffice"]) == [
        "SEED_DEMO_DATA è attivo: in produzione non si caricano dati di prova"
    ]


def test_each_process_checks_only_its_own_secrets() -> None:
    settings = production(backoffice_file_secret=SecretStr("dev-file-link-secret"))
    assert problems(settings, ["bot", "actions", "rasa"]) == []
    assert problems(settings, ["backoffice"]) != []


def _production_env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKOFFICE_", "ACTION_SERVER_", "WEBHOOK_"))}
    env.update({"SPORTELLO_ENV": "production", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
                "TELEGRAM_BOT_TOKEN": "1:X", "TELEGRAM_API_URL": "http://127.0.0.1:9"})
    return env


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "backoffice"],
        [sys.executable, "-m", "actions"],
        [sys.executable, "-m", "bot"],
        [sys.executable, "-m", "sportello.run_rasa", "run"],
    ],
    ids=["backoffice", "actions", "bot", "rasa"],
)
def test_every_process_refuses_to_start_in_production_on_default_secrets(
    command: list[str], tmp_path: Path
) -> None:
    done = subprocess.run(command, cwd=tmp_path, env=_production_env(tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("SPORTELLO_ENV=production, avvio rifiutato:")
    assert "ha il valore predefinito di sviluppo" in line
    assert not (tmp_path / "p.db").exists(), "nothing may be prepared before the check"


def test_make_run_exits_naming_the_setting_in_production(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    env.update({name.upper(): value for name, value in STRONG.items()})
    env["ACTION_SERVER_TOKEN"] = "dev-action-server-token"
    done = subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "ACTION_SERVER_TOKEN ha il valore predefinito di sviluppo" in done.stderr
