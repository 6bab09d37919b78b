"""Start Rasa with this project's settings: `python -m sportello.run_rasa <rasa arguments>`.

Rasa imports none of our code, so what it needs is handed over here, from the same settings
object and `.env` every other process reads: the action server's URL and token (in its
environment, read by endpoints.yml), and the stores of `rasa run` — the SQL tracker store of
TRACKER_STORE_URL (a SQLite file or PostgreSQL) and, with REDIS_URL, the Redis lock store
that lets several Rasa replicas share conversations. Those go into an endpoints file written
for this start (mode 0600, secrets left as ${…} references filled from the environment);
`endpoints.yml` stays the development default that `rasa test` reads. In production it
refuses to start on an unsafe token. `python -m sportello.run_rasa prepare DIR` writes the
same files into DIR instead, for Rasa's official image (deploy/).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from sqlalchemy.engine import make_url

from sportello.security import exit_if_unsafe
from sportello.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
# Keys of Rasa's locks in a shared Redis start with this (Rasa wants it alphanumeric).
LOCK_KEY_PREFIX = "sportello"


def stores(settings: Settings, env: dict[str, str]) -> dict[str, Any]:
    """The tracker and lock store sections of Rasa's endpoints, from the settings.

    Passwords are put in `env` and referenced, so the file written holds no secret.
    """
    url = make_url(settings.tracker_store_url)
    backend = url.get_backend_name()
    sections: dict[str, Any] = {}
    if backend == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        env["RASA_TRACKER_DB"] = url.database or "rasa.db"
        sections["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": "${RASA_TRACKER_DB}"}
    elif backend == "postgresql":
        tracker: dict[str, Any] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": url.host or "127.0.0.1",
            "port": url.port or 5432,
            "db": url.database or "rasa",
            "username": url.username or "postgres",
        }
        if url.password:
            env["RASA_TRACKER_PASSWORD"] = str(url.password)
            tracker["password"] = "${RASA_TRACKER_PASSWORD}"
        sections["tracker_store"] = tracker
    else:
        raise SystemExit(f"TRACKER_STORE_URL: Rasa's tracker store must be SQLite or PostgreSQL, not {backend}")
    if settings.redis_url:
        redis = urlparse(settings.redis_url)
        if redis.scheme not in {"redis", "rediss"}:
            raise SystemExit("REDIS_URL must start with redis:// or rediss://")
        lock: dict[str, Any] = {
            "type": "redis",
            "url": redis.hostname or "127.0.0.1",
            "port": redis.port or 6379,
            "db": int(redis.path.strip("/") or 0),
            "key_prefix": LOCK_KEY_PREFIX,
            "use_ssl": redis.scheme == "rediss",
        }
        if redis.password:
            env["RASA_REDIS_PASSWORD"] = redis.password
            lock["password"] = "${RASA_REDIS_PASSWORD}"
        sections["lock_store"] = lock
    return sections


def write_endpoints(base: Path, settings: Settings, env: dict[str, str]) -> Path:
    """`base` (the action endpoint) with this start's stores, in a file only we can read."""
    endpoints = yaml.safe_load(base.read_text(encoding="utf-8")) or {}
    endpoints.pop("lock_store", None)
    endpoints.update(stores(settings, env))
    handle, name = tempfile.mkstemp(prefix="rasa-endpoints-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        yaml.safe_dump(endpoints, out, sort_keys=False, allow_unicode=True)
    return Path(name)


def prepare(directory: Path, settings: Settings) -> None:
    """For Rasa's official image (deploy/), which runs `rasa run` itself and reads none of our
    settings: the endpoints of `run` (secrets as ${…}: RASA_TRACKER_PASSWORD and
    RASA_REDIS_PASSWORD must be in Rasa's environment), the credentials, the model and the
    pipeline's own components (`nlu/*.py`, found by Rasa with PYTHONPATH set to `directory`),
    in `directory` (a volume the Rasa container mounts)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = write_endpoints(ROOT / "endpoints.yml", settings, {})
    shutil.move(written, directory / "endpoints.yml")
    shutil.copy(ROOT / "credentials.yml", directory / "credentials.yml")
    shutil.copy(ROOT / "models" / "current.tar.gz", directory / "current.tar.gz")
    components = directory / "nlu"
    components.mkdir(exist_ok=True)
    for module in (ROOT / "nlu").glob("*.py"):
        shutil.copy(module, components / module.name)


def prepare_command(directory: str) -> list[str]:
    """The init step of a Rasa container (deploy/), run from the project's folder in our image."""
    return [".venv/bin/python", "-m", "sportello.run_rasa", "prepare", directory]


def container_arguments(directory: str, port: int = 5005) -> list[str]:
    """`rasa …` in the official image, on the files `prepare` wrote into `directory`."""
    return [
        "run", "--model", f"{directory}/current.tar.gz", "--credentials", f"{directory}/credentials.yml",
        "--endpoints", f"{directory}/endpoints.yml", "--port", str(port), "--interface", "0.0.0.0",
    ]


def _option(args: list[str], *names: str) -> int | None:
    for name in names:
        if name in args:
            return args.index(name)
    return None


def main(argv: list[str] | None = None) -> None:
    """Check the settings, then replace this process with Rasa."""
    settings = get_settings()
    exit_if_unsafe(settings, "rasa")
    env = dict(os.environ)
    env["ACTION_SERVER_URL"] = settings.action_server_url
    env["ACTION_SERVER_TOKEN"] = settings.action_server_token.get_secret_value()
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["prepare"] and len(args) == 2:
        prepare(Path(args[1]), settings)
        return
    if args[:1] != ["run"]:
        stores(settings, env)  # RASA_TRACKER_DB, for endpoints.yml's SQLite store
    else:
        # Listen where the bot looks for Rasa (RASA_URL), on loopback unless told otherwise.
        url = urlparse(settings.rasa_url)
        if _option(args, "--port", "-p") is None:
            args += ["--port", str(url.port or 5005)]
        if _option(args, "--interface", "-i") is None:
            args += ["--interface", url.hostname or "127.0.0.1"]
        at = _option(args, "--endpoints")
        base = Path(args[at + 1]) if at is not None else Path("endpoints.yml")
        written = write_endpoints(base, settings, env)
        if at is not None:
            args[at + 1] = str(written)
        else:
            args += ["--endpoints", str(written)]
    os.execve(str(RASA), [str(RASA), *args], env)


if __name__ == "__main__":
    main()
