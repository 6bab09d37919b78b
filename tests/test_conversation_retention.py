"""Conversations older than CONVERSATION_RETENTION_DAYS leave Rasa's tracker store, by the bot's job."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.conversations import ConversationStore
from localtelegram import BotApiServerThread
from tests.stack import Service, Stack, rasa_turn, start_bot, wait_until

DAY = 86_400.0


def tracker_db(stack: Stack) -> Path:
    return Path(make_url(stack.env["TRACKER_STORE_URL"]).database or "")


def rows(stack: Stack, sender: str) -> int:
    with sqlite3.connect(tracker_db(stack)) as db:
        return int(db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0])


def age(stack: Stack, sender: str, days: float) -> None:
    """Back-date a conversation, as if it had happened `days` days ago."""
    with sqlite3.connect(tracker_db(stack)) as db:
        db.execute("UPDATE events SET timestamp = timestamp - ? WHERE sender_id = ?", (days * DAY, sender))


@pytest.fixture()
def retention_bot(stack: Stack, tmp_path: Path) -> Iterator[Service]:
    """A bot of its own (its own Telegram) whose retention job runs every second."""
    telegram = BotApiServerThread(token="454545:RETENTION-TOKEN").start()
    service = start_bot(
        stack, telegram, tmp_path, CONVERSATION_RETENTION_INTERVAL_SECONDS="1", CONVERSATION_RETENTION_DAYS="90"
    )
    yield service
    service.stop()
    telegram.stop()


def test_the_job_deletes_what_is_older_than_the_retention_and_keeps_the_rest(
    stack: Stack, retention_bot: Service
) -> None:
    for sender in ("retention-old", "retention-89-days", "retention-today"):
        rasa_turn(stack, sender, "buongiorno")
        rasa_turn(stack, sender, "a che ora apre il comune?")
    age(stack, "retention-old", 91)
    age(stack, "retention-89-days", 89)

    wait_until(lambda: rows(stack, "retention-old") == 0, 15, "the retention job")
    assert rows(stack, "retention-89-days") > 0 and rows(stack, "retention-today") > 0
    # Whoever writes again after the purge starts a new conversation, kept like any other.
    assert "assistente automatico" in str(rasa_turn(stack, "retention-old", "buongiorno"))
    time.sleep(2)
    assert rows(stack, "retention-old") > 0


async def test_before_rasa_made_its_table_there_is_nothing_to_read_or_delete(tmp_path: Path) -> None:
    store = ConversationStore.open(f"sqlite+aiosqlite:///{tmp_path / 'no-rasa-yet.db'}")
    try:
        assert await store.lines("1") == []
        assert await store.forget("1") == 0
        assert await store.forget_older_than(90) == 0
    finally:
        await store.close()
