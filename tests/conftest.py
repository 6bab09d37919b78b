"""Fixtures of the end-to-end tests: the real stack, a local Bot API server, the real bot."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from localtelegram import BotApiDriver, BotApiServerThread, TelegramUser
from tests.stack import STAFF_CHAT_ID, Service, Stack, add_staff_group, start_bot, start_stack, wait_until

_user_ids = itertools.count(700_001)


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
    add_staff_group(server)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bot(stack: Stack, telegram: BotApiServerThread) -> Iterator[Service]:
    """The real bot process, in long-polling mode."""
    # Transcripts are purged every second, so a test sees the job of the running bot at work.
    state_dir = Path(stack.env["BOT_STATE_DIR"])
    state_dir.mkdir(parents=True, exist_ok=True)
    service = start_bot(stack, telegram, state_dir, HANDOFF_PURGE_INTERVAL_SECONDS="1")
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


__all__ = ["STAFF_CHAT_ID", "start_bot", "wait_until"]
