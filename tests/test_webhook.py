"""Webhook mode: Telegram's updates arrive by POST, and only with the right secret header."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest

from localtelegram import BotApiDriver, BotApiServerThread
from tests.stack import Service, Stack, free_port, wait_until

SECRET = "webhook-secret-for-tests"


@pytest.fixture(scope="module")
def webhook_telegram() -> Iterator[BotApiServerThread]:
    server = BotApiServerThread(token="515151:WEBHOOK-TEST-TOKEN").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def webhook_bot(
    stack: Stack, webhook_telegram: BotApiServerThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    state = tmp_path_factory.mktemp("webhook-bot")
    env = dict(stack.env)
    env.update(
        {
            "TELEGRAM_API_URL": webhook_telegram.url,
            "TELEGRAM_BOT_TOKEN": webhook_telegram.token,
            "BOT_STATE_DIR": str(state),
            "WEBHOOK_URL": url,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_PORT": str(port),
        }
    )
    driver = BotApiDriver(webhook_telegram.url)
    service = Service("webhook-bot", [sys.executable, "-m", "bot"], env, state,
                      ready=lambda: bool(driver.calls("setWebhook")))
    service.start()
    wait_until(lambda: httpx.post(url, json={}, timeout=2).status_code == 403, 30, "webhook listener")
    yield url
    service.stop()
    driver.close()


def test_a_wrong_or_missing_secret_is_refused_with_403(webhook_bot: str) -> None:
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ciao"}}
    wrong = httpx.post(webhook_bot, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}, timeout=5)
    missing = httpx.post(webhook_bot, json=update, timeout=5)
    assert wrong.status_code == 403
    assert missing.status_code == 403


def test_updates_delivered_by_webhook_are_answered(webhook_bot: str, webhook_telegram: BotApiServerThread) -> None:
    driver = BotApiDriver(webhook_telegram.url)
    try:
        citizen = driver.user(880_001, first_name="Luca")
        citizen.send("/start")
        reply = citizen.wait_reply(timeout=30)
        assert "assistente automatico" in reply.content
        webhook = [c for c in driver.calls("setWebhook")][-1]
        assert webhook_bot in str(webhook)
    finally:
        driver.close()
