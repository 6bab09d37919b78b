"""The production stores of Rasa: conversations in PostgreSQL, locks in Redis, across `kill -9`."""

from __future__ import annotations

import asyncio
import secrets
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import yaml

from sportello.run_rasa import LOCK_KEY_PREFIX, stores, write_endpoints
from sportello.settings import Settings
from tests.stack import MODEL, Service, Stack, free_port, mint_link_code, rasa_answers, rasa_turn
from tests.test_actions_through_rasa import MARIO, texts

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = ("127.0.0.1", 6379)


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_the_tracker_and_lock_stores_come_from_the_settings(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    sqlite = stores(_settings(tracker_store_url=f"sqlite+aiosqlite:///{tmp_path}/t/rasa.db"), env)
    assert sqlite == {"tracker_store": {"type": "SQL", "dialect": "sqlite", "db": "${RASA_TRACKER_DB}"}}
    assert env["RASA_TRACKER_DB"] == f"{tmp_path}/t/rasa.db" and (tmp_path / "t").is_dir()

    env = {}
    production = stores(
        _settings(
            tracker_store_url="postgresql+asyncpg://rasa:pg-secret@db.internal:6543/conversations",
            redis_url="rediss://:redis-secret@cache.internal:6380/2",
        ),
        env,
    )
    assert production["tracker_store"] == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 6543,
        "db": "conversations", "username": "rasa", "password": "${RASA_TRACKER_PASSWORD}",
    }
    assert production["lock_store"] == {
        "type": "redis", "url": "cache.internal", "port": 6380, "db": 2,
        "key_prefix": LOCK_KEY_PREFIX, "use_ssl": True, "password": "${RASA_REDIS_PASSWORD}",
    }
    assert env == {"RASA_TRACKER_PASSWORD": "pg-secret", "RASA_REDIS_PASSWORD": "redis-secret"}

    written = write_endpoints(Path("endpoints.yml"), _settings(redis_url="redis://127.0.0.1:6379/0"), {})
    try:
        text = written.read_text()
        assert written.stat().st_mode & 0o077 == 0, "only Rasa's user reads the file"
        endpoints = yaml.safe_load(text)
        # The action endpoint is the repository's, still read from the environment by Rasa.
        assert endpoints["action_endpoint"]["headers"] == {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}
        assert endpoints["lock_store"]["type"] == "redis"
    finally:
        written.unlink()

    for bad in ({"tracker_store_url": "mysql+aiomysql://db/rasa"}, {"redis_url": "http://cache:6379"}):
        with pytest.raises(SystemExit):
            stores(_settings(**bad), {})


@pytest.fixture()
def tracker_database() -> Iterator[str]:
    name = f"rasa_{secrets.token_hex(5)}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield name
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class RedisMonitor(threading.Thread):
    """Every command Redis receives, as MONITOR prints it (no client library needed)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(REDIS, timeout=5)
        self.sock.sendall(b"MONITOR\r\n")
        self.lines: list[str] = []

    def run(self) -> None:
        buffer = b""
        self.sock.settimeout(None)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            *done, buffer = buffer.split(b"\r\n")
            self.lines += [line.decode(errors="replace") for line in done]

    def close(self) -> None:
        self.sock.close()


def test_a_form_survives_kill_9_of_rasa_on_postgresql_with_locks_in_redis(
    stack: Stack, tracker_database: str, tmp_path: Path
) -> None:
    port = free_port()
    env = dict(stack.env)
    env.update(
        {
            "TRACKER_STORE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{tracker_database}",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "RASA_URL": f"http://127.0.0.1:{port}",
        }
    )
    rasa = Service(
        "rasa-production-stores",
        [sys.executable, "-m", "sportello.run_rasa", "run", "--model", str(MODEL),
         "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
        env,
        tmp_path,
        ready=rasa_answers(env["RASA_URL"]),
        ready_timeout=180.0,
    )
    on_rasa = Stack(env=env, backoffice=stack.backoffice, actions=stack.actions, rasa=rasa)
    sender = f"pg-store-{secrets.token_hex(3)}"
    monitor = RedisMonitor()
    monitor.start()
    rasa.start()
    try:
        rasa_turn(on_rasa, sender, f'/account_link{{"link_code": "{mint_link_code(stack, MARIO)}"}}')
        rasa_turn(on_rasa, sender, "/practice_submit")
        first = rasa_turn(on_rasa, sender, '/inform{"practice_choice": "certificato_residenza"}')
        assert "👤 Sono io" in str(first[-1]["buttons"])

        rasa.kill()
        rasa.start()

        use = rasa_turn(on_rasa, sender, '/inform{"practice_choice": "__me__"}')
        assert "in bollo" in str(use[-1]["buttons"]), texts(use)
    finally:
        rasa.stop()
        monitor.close()

    async def rows() -> int:
        connection = await asyncpg.connect(POSTGRES.rsplit("/", 1)[0] + f"/{tracker_database}", timeout=5)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM events WHERE sender_id = $1", sender))
        finally:
            await connection.close()

    assert asyncio.run(rows()) > 0, "the conversation is in PostgreSQL"
    key = f"{LOCK_KEY_PREFIX}:lock:{sender}"
    assert any(f'"{key}"' in line and '"SET"' in line.upper() for line in monitor.lines), (
        "each turn takes its conversation's lock in Redis"
    )
