"""Fixtures of the end-to-end tests: the real stack, a local Bot API server, the real bot."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.botapi import BotApiDriver, BotApiServerThread, TelegramUser
from tests.stack import Service, Stack, start_stack, wait_until

_user_ids = itertools.count(700_001)
STAFF_CHAT_ID = -1001234567890


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Back office, action server and Rasa, started once for the whole run."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def telegram() -> Iterator[BotApiServerThread]:
    """The local Bot API server the bot talks to instead of Telegram."""
    server = BotApiServerThread(token="424242:E2E-TEST-TOKEN").start()
    with BotApiDriver(server.url) as driver:
        driver.group(STAFF_CHAT_ID, "Staff URP Cerveteri", forum=True)
    yield server
    server.stop()


def start_bot(stack: Stack, telegram: BotApiServerThread, state_dir: Path, **env: str) -> Service:
    """Start `python -m bot` against the local Bot API server; ready once it polls."""
    bot_env = dict(stack.env)
    bot_env.update(
        {
            "TELEGRAM_API_URL": telegram.url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "BOT_STATE_DIR": str(state_dir),
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            **env,
        }
    )
    def polling() -> bool:
        # Polling calls made after this start, so a restarted bot is really back.
        with BotApiDriver(telegram.url) as driver:
            return len(driver.calls("getUpdates")) > calls_before

    with BotApiDriver(telegram.url) as driver:
        calls_before = len(driver.calls("getUpdates"))
    service = Service("bot", [sys.executable, "-m", "bot"], bot_env, state_dir, ready=polling)
    service.start()
    return service


@pytest.fixture(scope="session")
def bot(stack: Stack, telegram: BotApiServerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The real bot process, in long-polling mode."""
    service = start_bot(stack, telegram, tmp_path_factory.mktemp("bot"))
    yield service
    service.stop()


@pytest.fixture()
def tg(telegram: BotApiServerThread) -> Iterator[BotApiDriver]:
    driver = BotApiDriver(telegram.url)
    yield driver
    driver.close()


@pytest.fixture()
def citizen(tg: BotApiDriver, bot: Service) -> TelegramUser:
    """A new citizen for each test, so no conversation state leaks between tests."""
    return tg.user(next(_user_ids), first_name="Maria", language_code="it")


__all__ = ["start_bot", "wait_until"]
