"""The staff's canned replies (bot/canned_replies.yml): checked when the bot starts, listed by
`/risposte` in a ticket's topic, sent to the citizen with `/risposta N`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

FILE = Path(__file__).with_name("canned_replies.yml")
MAX_TEXT = 1000
MAX_REPLIES = 30


@dataclass(frozen=True)
class CannedReply:
    title: str
    text: str


class CannedRepliesError(ValueError):
    """The file of canned replies cannot be used; the message says where and why."""


def load(path: Path = FILE) -> tuple[CannedReply, ...]:
    """The replies in the file's order; a file that is not a list of {titolo, testo} fails."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CannedRepliesError(f"{path}: cannot be read: {error}") from error
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_REPLIES:
        raise CannedRepliesError(f"{path}: expected a list of 1 to {MAX_REPLIES} replies")
    replies = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) != {"titolo", "testo"}:
            raise CannedRepliesError(f"{path}: reply {number} needs exactly 'titolo' and 'testo'")
        title, text = item["titolo"], item["testo"]
        if not isinstance(title, str) or not isinstance(text, str) or not title.strip() or not text.strip():
            raise CannedRepliesError(f"{path}: reply {number} has an empty title or text")
        if len(text) > MAX_TEXT:
            raise CannedRepliesError(f"{path}: reply {number} is longer than {MAX_TEXT} characters")
        replies.append(CannedReply(title.strip(), text.strip()))
    return tuple(replies)


def listing(replies: tuple[CannedReply, ...]) -> str:
    """What `/risposte` shows in the topic."""
    lines = ["Risposte pronte. Per inviarne una al cittadino scrivete /risposta e il numero:"]
    lines += [f"{n}. {reply.title} — {reply.text}" for n, reply in enumerate(replies, start=1)]
    return "\n".join(lines)


def pick(replies: tuple[CannedReply, ...], argument: str) -> CannedReply | None:
    """The reply `/risposta N` names; None for a number that is not in the list."""
    raw = argument.strip()
    if not raw.isdigit() or not 1 <= int(raw) <= len(replies):
        return None
    return replies[int(raw) - 1]
