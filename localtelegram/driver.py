"""Synchronous test driver that acts as Telegram users through the local Bot API's control API."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import httpx

if TYPE_CHECKING:
    from .people import TelegramGroup, TelegramUser

JSON = dict[str, Any]

# Output kinds that are side signals rather than something the citizen reads in the chat.
SIGNAL_KINDS = {"chat_action", "callback_answer"}


class BotApiTimeout(AssertionError):
    """The bot did not say what the test waited for in time."""


class ControlError(RuntimeError):
    """The control API refused a request (bad button title, unknown chat...)."""


@dataclass
class BotMessage:
    """One thing the bot did in a chat: a message, an edit, a deletion, a callback answer..."""

    seq: int
    kind: str  # text/photo/document/voice/location/edit/delete/callback_answer/chat_action/topic_*
    chat_id: int
    message_id: int | None = None
    text: str | None = None
    caption: str | None = None
    reply_markup: JSON | None = None
    buttons: list[str] = field(default_factory=list)
    button_rows: list[list[str]] = field(default_factory=list)
    keyboard_type: str | None = None  # inline / reply / remove / force_reply
    message_thread_id: int | None = None
    parse_mode: str | None = None
    entities: list[JSON] | None = None
    edit: str | None = None  # for kind == "edit": text / caption / reply_markup
    file_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    show_alert: bool = False  # callback answers
    url: str | None = None
    action: str | None = None  # chat actions
    raw: JSON = field(default_factory=dict, repr=False)
    _driver: BotApiDriver | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_output(cls, out: JSON, driver: BotApiDriver | None = None) -> BotMessage:
        markup = out.get("reply_markup")
        rows: list[list[str]] = []
        keyboard_type = None
        if isinstance(markup, dict):
            if "inline_keyboard" in markup:
                keyboard_type = "inline"
                rows = [[b["text"] for b in row] for row in markup["inline_keyboard"]]
            elif "keyboard" in markup:
                keyboard_type = "reply"
                rows = [[b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]]
            elif markup.get("remove_keyboard"):
                keyboard_type = "remove"
            elif markup.get("force_reply"):
                keyboard_type = "force_reply"
        return cls(
            seq=out["seq"], kind=out["kind"], chat_id=out["chat_id"], message_id=out.get("message_id"),
            text=out.get("text"), caption=out.get("caption"), reply_markup=markup,
            buttons=[t for row in rows for t in row], button_rows=rows, keyboard_type=keyboard_type,
            message_thread_id=out.get("message_thread_id"), parse_mode=out.get("parse_mode"),
            entities=out.get("entities"), edit=out.get("edit"), file_id=out.get("file_id"),
            file_name=out.get("file_name"), mime_type=out.get("mime_type"), file_size=out.get("file_size"),
            show_alert=bool(out.get("show_alert")), url=out.get("url"), action=out.get("action"),
            raw=out, _driver=driver,
        )

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has ('' if neither)."""
        return self.text or self.caption or ""

    def has_button(self, title: str) -> bool:
        return title in self.buttons

    def button_data(self, title: str) -> str | None:
        """callback_data of the inline button with this title."""
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == title:
                    return button.get("callback_data")
        return None

    def download(self) -> bytes:
        """Bytes of the photo (largest size), document or voice note the bot sent."""
        if self.file_id is None or self._driver is None:
            raise ValueError(f"{self.kind} output #{self.seq} carries no file")
        return self._driver.download(self.file_id)

    def __str__(self) -> str:
        body = self.content or self.file_name or self.action or ""
        extra = f" {self.buttons}" if self.buttons else ""
        return f"[{self.kind}#{self.message_id}] {body}{extra}"


class BotApiDriver:
    """Drives the fake server the way people use Telegram: users type, tap and share things."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._cursors: dict[tuple[int, int | None], int] = {}
        self.callback_answers: dict[int, list[BotMessage]] = {}
        self.history: dict[int, list[BotMessage]] = {}
        self.answers_taken: set[int] = set()

    # -- plumbing

    def _call(self, verb: str, path: str, *, body: JSON | None = None, params: JSON | None = None,
              timeout: float | None = None) -> Any:
        extra: JSON = {} if timeout is None else {"timeout": timeout}
        resp = self.http.request(verb, path, json=body, params=params, **extra)
        data = resp.json()
        if not data.get("ok"):
            raise ControlError(f"{verb} {path}: {data.get('description')}")
        return data["result"]

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- server-wide

    def info(self) -> JSON:
        return self._call("GET", "/_control/info")  # type: ignore[no-any-return]

    @property
    def token(self) -> str:
        return str(self.info()["token"])

    def reset(self) -> None:
        """Forget users, chats, updates and files (the token and bot stay)."""
        self._call("POST", "/_control/reset")
        self._cursors.clear()
        self.callback_answers.clear()
        self.history.clear()
        self.answers_taken.clear()

    def throttle(self, count: int, retry_after: int = 1, methods: list[str] | None = None) -> None:
        """The next `count` send* calls (or calls of `methods`) get 429 Too Many Requests."""
        self._call("POST", "/_control/throttle",
                   body={"count": count, "retry_after": retry_after, "methods": methods})

    def fail(self, method: str, count: int = 1, error_code: int = 400, description: str | None = None) -> None:
        """The next `count` calls of `method` (say "createForumTopic") fail with this error."""
        self._call("POST", "/_control/fail", body={"method": method, "count": count, "error_code": error_code,
                                                   "description": description})

    def calls(self, method: str | None = None, after: int = 0) -> list[JSON]:
        """Bot API calls the bot made, with their parameters and outcome."""
        return self._call("GET", "/_control/calls",  # type: ignore[no-any-return]
                          params={"after": after, **({"method": method} if method else {})})

    def commands(self) -> JSON:
        return self._call("GET", "/_control/commands")  # type: ignore[no-any-return]

    def download(self, file_id: str) -> bytes:
        resp = self.http.get(f"/_control/files/{file_id}")
        resp.raise_for_status()
        return resp.content

    def inject_update(self, update: JSON) -> JSON:
        """Queue a raw Update object (update_id is assigned by the server)."""
        return self._call("POST", "/_control/updates", body={"update": update})  # type: ignore[no-any-return]

    def wait_consumed(self, timeout: float = 10.0) -> None:
        """Block until the bot has fetched and confirmed every queued update."""
        pending = self._call("GET", "/_control/updates", params={"wait": timeout}, timeout=timeout + 10)
        if pending["pending"]:
            raise BotApiTimeout(f"bot left {len(pending['pending'])} update(s) unconsumed after {timeout}s")

    # -- people and places

    def user(self, user_id: int, first_name: str = "Test", *, last_name: str | None = None,
             username: str | None = None, language_code: str | None = "it",
             phone_number: str | None = None, started: bool = False) -> TelegramUser:
        """A Telegram user; `started`: they wrote to the bot before, so the bot may write first."""
        self._call("POST", "/_control/users", body={
            "id": user_id, "first_name": first_name, "last_name": last_name, "username": username,
            "language_code": language_code, "phone_number": phone_number, "started": started,
        })
        from .people import TelegramUser

        return TelegramUser(self, user_id, first_name, chat_id=user_id)

    def group(self, chat_id: int, title: str, *, forum: bool = False, supergroup: bool = True,
              members: dict[TelegramUser, str] | None = None, bot_status: str = "administrator",
              username: str | None = None) -> TelegramGroup:
        """A group (supergroup by default; forum=True for topics) with the bot in it."""
        self._call("POST", "/_control/chats", body={
            "id": chat_id, "title": title, "type": "supergroup" if supergroup or forum else "group",
            "is_forum": forum, "bot_status": bot_status, "username": username,
            "members": [{"user_id": u.user_id, "status": s} for u, s in (members or {}).items()],
        })
        from .people import TelegramGroup

        return TelegramGroup(self, chat_id, title)

    # -- reading what the bot did

    def outputs(self, chat_id: int, *, after: int = 0, wait: float = 0.0, min_count: int = 1,
                kinds: list[str] | None = None, thread_id: int | None = None) -> list[BotMessage]:
        """Everything recorded in a chat after sequence number `after` (no cursor involved)."""
        params: JSON = {"after": after, "wait": wait, "min_count": min_count}
        if kinds:
            params["kinds"] = ",".join(kinds)
        if thread_id is not None:
            params["thread_id"] = thread_id
        result = self._call("GET", f"/_control/chats/{chat_id}/outputs", params=params, timeout=wait + 10)
        return [BotMessage.from_output(o, self) for o in result["outputs"]]

    def wait_replies(self, chat_id: int, min_count: int = 1, timeout: float = 20.0, *,
                     thread_id: int | None = None, settle: float = 0.0,
                     include_signals: bool = False) -> list[BotMessage]:
        """New bot output in a chat since the last call, waiting until `min_count` of it has arrived.

        Chat actions and callback answers are kept aside (see `callback_answers`) unless
        include_signals is set, so "typing..." never satisfies min_count. With `settle`, keep
        collecting until the bot has been quiet that long.
        """
        key = (chat_id, thread_id)
        got: list[BotMessage] = []
        deadline = time.monotonic() + timeout
        quiet_until: float | None = None
        while True:
            now = time.monotonic()
            enough = len(got) >= min_count
            if enough and (settle <= 0 or (quiet_until is not None and now >= quiet_until)):
                return got
            limit = min(deadline, quiet_until) if enough and quiet_until is not None else deadline
            remaining = limit - now
            if remaining <= 0:
                if enough:
                    return got
                seen = "\n  ".join(str(m) for m in got) or "(nothing)"
                raise BotApiTimeout(
                    f"chat {chat_id}: wanted {min_count} bot message(s) within {timeout}s, got:\n  {seen}"
                )
            batch = self.outputs(chat_id, after=self._cursors.get(key, 0), wait=remaining,
                                 thread_id=thread_id)
            for message in batch:
                self._cursors[key] = max(self._cursors.get(key, 0), message.seq)
                self.history.setdefault(chat_id, []).append(message)
                if message.kind == "callback_answer":
                    self.callback_answers.setdefault(chat_id, []).append(message)
                if include_signals or message.kind not in SIGNAL_KINDS:
                    got.append(message)
            if batch and settle > 0:
                quiet_until = time.monotonic() + settle

    def skip_replies(self, chat_id: int, thread_id: int | None = None) -> None:
        """Move the cursor past everything the bot has done so far in the chat."""
        batch = self.outputs(chat_id, after=self._cursors.get((chat_id, thread_id), 0), min_count=0,
                             thread_id=thread_id)
        for message in batch:
            self.history.setdefault(chat_id, []).append(message)
            if message.kind == "callback_answer":
                self.callback_answers.setdefault(chat_id, []).append(message)
        if batch:
            self._cursors[(chat_id, thread_id)] = batch[-1].seq

    def messages(self, chat_id: int) -> list[JSON]:
        """Current state of every message in the chat (both sides; edits applied, deletions flagged)."""
        return self._call("GET", f"/_control/chats/{chat_id}/messages")  # type: ignore[no-any-return]

    def transcript(self, chat_id: int) -> str:
        lines = []
        for m in self.messages(chat_id):
            who = "BOT" if m["from_bot"] else m.get("from", {}).get("first_name", "?")
            body = m.get("text") or m.get("caption") or next(
                (k for k in ("photo", "animation", "document", "voice", "audio", "video", "video_note",
                             "location", "contact", "sticker", "dice", "poll", "forum_topic_created")
                 if k in m), "?")
            flag = " (deleted)" if m["deleted"] else ""
            lines.append(f"#{m['message_id']} {who}: {body}{flag}")
        return "\n".join(lines)
