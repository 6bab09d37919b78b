"""The production profile's start-up check: no process starts on a secret that is unsafe."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Literal

from pydantic import SecretStr

from sportello.settings import Settings

Process = Literal["backoffice", "actions", "rasa", "bot"]
PROCESSES: tuple[Process, ...] = ("backoffice", "actions", "rasa", "bot")

MIN_SECRET_BYTES = 32

# The secrets each process holds (least privilege: a process is checked on its own ones).
_SECRETS_OF: dict[Process, tuple[str, ...]] = {
    "backoffice": ("backoffice_api_key", "backoffice_file_secret"),
    "actions": ("backoffice_api_key", "action_server_token"),
    "rasa": ("action_server_token",),
    "bot": ("backoffice_api_key", "webhook_secret"),
}
ALL_SECRETS = (
    "backoffice_api_key",
    "backoffice_file_secret",
    "action_server_token",
    "webhook_secret",
)


class UnsafeSettings(Exception):
    """A process was asked to start in production with a setting that is not safe."""


def _env_name(field: str) -> str:
    return field.upper()


def _documented_defaults() -> dict[str, str]:
    defaults: dict[str, str] = {}
    for name in ALL_SECRETS:
        default = Settings.model_fields[name].default
        if isinstance(default, SecretStr):
            defaults[name] = default.get_secret_value()
    return defaults


def _secret(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name)
    return value.get_secret_value() if isinstance(value, SecretStr) else None


def problems(settings: Settings, processes: Iterable[Process] = PROCESSES) -> list[str]:
    """Every reason, one line each naming the setting, why these processes must not start."""
    if not settings.production:
        return []
    processes = tuple(processes)
    needed = {name for process in processes for name in _SECRETS_OF[process]}
    if "bot" in processes and not settings.webhook_url:
        needed.discard("webhook_secret")  # long polling: Telegram posts nothing to us
    defaults = _documented_defaults()
    found: list[str] = []
    for name in ALL_SECRETS:
        if name not in needed:
            continue
        value = _secret(settings, name)
        env = _env_name(name)
        if not value:
            found.append(f"{env} non è impostato")
        elif name in defaults and value == defaults[name]:
            found.append(f"{env} ha il valore predefinito di sviluppo")
        elif len(value.encode()) < MIN_SECRET_BYTES:
            found.append(f"{env} è più corto di {MIN_SECRET_BYTES} byte")
    # Reuse is checked over every secret this process can see, not only its own.
    seen: dict[str, str] = {}
    for name in ALL_SECRETS:
        value = _secret(settings, name)
        if not value:
            continue
        if value in seen:
            found.append(f"{_env_name(name)} è uguale a {_env_name(seen[value])}: un segreto per ogni scopo")
        else:
            seen[value] = name
    if "backoffice" in processes and settings.seed_demo_data:
        found.append("SEED_DEMO_DATA è attivo: in produzione non si caricano dati di prova")
    return found


def require_safe(settings: Settings, *processes: Process) -> None:
    """Raise UnsafeSettings, naming every unsafe setting, when these processes must not start."""
    found = problems(settings, processes or PROCESSES)
    if found:
        raise UnsafeSettings("; ".join(found))


def exit_if_unsafe(settings: Settings, *processes: Process) -> None:
    """The one line an operator reads when a process refuses to start, and a non-zero exit."""
    try:
        require_safe(settings, *processes)
    except UnsafeSettings as error:
        sys.exit(f"SPORTELLO_ENV=production, avvio rifiutato: {error}. Vedi SECURITY.md.")


def main(argv: list[str] | None = None) -> None:
    """`python -m sportello.security [process…]`: check before anything starts (make run)."""
    from sportello.settings import get_settings

    names = argv if argv is not None else sys.argv[1:]
    unknown = [name for name in names if name not in PROCESSES]
    if unknown:
        sys.exit(f"processi sconosciuti: {', '.join(unknown)} (noti: {', '.join(PROCESSES)})")
    exit_if_unsafe(get_settings(), *names)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
