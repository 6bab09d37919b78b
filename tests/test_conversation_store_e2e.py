"""Conversations live in Rasa's SQL tracker store: a restart of Rasa loses no form."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.stack import Stack, mint_link_code, rasa_turn
from tests.test_actions_through_rasa import MARIO, texts


def tracker_rows(stack: Stack, sender: str) -> int:
    with sqlite3.connect(Path(make_url(stack.env["TRACKER_STORE_URL"]).database or "")) as db:
        return int(db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0])


def test_a_form_in_progress_survives_a_restart_of_rasa(stack: Stack) -> None:
    sender = "store-restart-1"
    rasa_turn(stack, sender, f'/account_link{{"link_code": "{mint_link_code(stack, MARIO)}"}}')
    rasa_turn(stack, sender, "/practice_submit")
    first = rasa_turn(stack, sender, '/inform{"practice_choice": "certificato_residenza"}')
    assert "👤 Sono io" in str(first[-1]["buttons"])
    assert tracker_rows(stack, sender) > 0, "the conversation is in the tracker store's file"

    stack.rasa.restart()

    # The same answer only makes sense inside the certificate's form: it moves to the next question.
    use = rasa_turn(stack, sender, '/inform{"practice_choice": "__me__"}')
    assert "in bollo" in str(use[-1]["buttons"]), texts(use)
