"""Synchronous test driver that acts as Telegram users through the fake Bot API's control API."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

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
             phone_number: str | None = None) -> TelegramUser:
        self._call("POST", "/_control/users", body={
            "id": user_id, "first_name": first_name, "last_name": last_name, "username": username,
            "language_code": language_code, "phone_number": phone_number,
        })
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


class TelegramUser:
    """A person using Telegram; by default acting in their private chat with the bot."""

    def __init__(self, driver: BotApiDriver, user_id: int, first_name: str, *, chat_id: int,
                 thread_id: int | None = None) -> None:
        self.driver = driver
        self.user_id = user_id
        self.first_name = first_name
        self.chat_id = chat_id
        self.thread_id = thread_id

    def __repr__(self) -> str:
        return f"TelegramUser({self.user_id}, {self.first_name!r}, chat={self.chat_id}, thread={self.thread_id})"

    def __hash__(self) -> int:
        return hash((self.user_id, self.chat_id, self.thread_id))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TelegramUser) and (self.user_id, self.chat_id, self.thread_id) == (
            other.user_id, other.chat_id, other.thread_id)

    def in_chat(self, group: TelegramGroup, thread_id: int | None = None) -> TelegramUser:
        """The same person writing in a group (optionally in a forum topic)."""
        return TelegramUser(self.driver, self.user_id, self.first_name, chat_id=group.chat_id,
                            thread_id=thread_id)

    # -- doing things

    def _send(self, body: JSON, reply_to: int | None = None) -> JSON:
        body = {"user_id": self.user_id, **body}
        if self.chat_id != self.user_id:
            body["chat_id"] = self.chat_id
        if self.thread_id is not None:
            body["thread_id"] = self.thread_id
        if reply_to is not None:
            body["reply_to"] = reply_to
        result = self.driver._call("POST", "/_control/send", body=body)
        return result["message"]  # type: ignore[no-any-return]

    def send(self, text: str, *, reply_to: int | None = None) -> JSON:
        """Type and send a text (a leading "/" makes it a bot command, as in the app)."""
        return self._send({"type": "text", "text": text}, reply_to)

    def send_photo(self, data: bytes, caption: str | None = None) -> JSON:
        return self._send({"type": "photo", "data": base64.b64encode(data).decode(), "caption": caption})

    def send_document(self, data: bytes, file_name: str, mime_type: str | None = None,
                      caption: str | None = None) -> JSON:
        return self._send({"type": "document", "data": base64.b64encode(data).decode(),
                           "file_name": file_name, "mime_type": mime_type, "caption": caption})

    def send_voice(self, data: bytes, duration: int = 1) -> JSON:
        return self._send({"type": "voice", "data": base64.b64encode(data).decode(), "duration": duration})

    def send_location(self, latitude: float, longitude: float) -> JSON:
        return self._send({"type": "location", "latitude": latitude, "longitude": longitude})

    def send_contact(self, phone_number: str, first_name: str | None = None, *,
                     own: bool = True) -> JSON:
        """Share a contact; own=True shares the user's own (carrying their user_id)."""
        body: JSON = {"type": "contact", "phone_number": phone_number, "first_name": first_name}
        body["contact_user_id"] = self.user_id if own else None
        return self._send(body)

    def send_sticker(self, emoji: str = "👍") -> JSON:
        return self._send({"type": "sticker", "emoji": emoji})

    def send_audio(self, data: bytes, duration: int = 30, *, title: str | None = None,
                   performer: str | None = None) -> JSON:
        """A music file or recording shared as audio (not a voice note)."""
        return self._send({"type": "audio", "data": base64.b64encode(data).decode(), "duration": duration,
                           "title": title, "performer": performer})

    def send_video(self, data: bytes, duration: int = 5) -> JSON:
        return self._send({"type": "video", "data": base64.b64encode(data).decode(), "duration": duration})

    def send_video_note(self, data: bytes, duration: int = 5) -> JSON:
        """A round video message recorded in the chat."""
        return self._send({"type": "video_note", "data": base64.b64encode(data).decode(), "duration": duration})

    def send_animation(self, data: bytes, file_name: str = "animation.mp4") -> JSON:
        """A GIF (Telegram sends GIFs as silent MP4 animations)."""
        return self._send({"type": "animation", "data": base64.b64encode(data).decode(),
                           "file_name": file_name})

    def send_dice(self, emoji: str = "🎲", value: int | None = None) -> JSON:
        return self._send({"type": "dice", "emoji": emoji, "value": value})

    def send_poll(self, question: str, options: list[str]) -> JSON:
        return self._send({"type": "poll", "question": question, "options": options})

    def press(self, title: str, *, message_id: int | None = None, keyboard: bool = False) -> JSON:
        """Tap the button with this title on the latest bot message showing it.

        Inline buttons produce a callback query; reply-keyboard buttons send their text. With
        keyboard=True only the reply keyboard under the input field is looked at.
        Returns {"type": "callback_query", "callback_query_id", ...} or {"type": "message", ...}.
        """
        body: JSON = {"user_id": self.user_id, "chat_id": self.chat_id, "button": title}
        if message_id is not None:
            body["message_id"] = message_id
        if keyboard:
            body["keyboard_only"] = True
        return self.driver._call("POST", "/_control/press", body=body)  # type: ignore[no-any-return]

    def press_raw(self, message_id: int, data: str) -> JSON:
        """A callback query with arbitrary data on a message, as a tampered client could send."""
        return self.driver._call("POST", "/_control/press",  # type: ignore[no-any-return]
                                 body={"user_id": self.user_id, "chat_id": self.chat_id,
                                       "message_id": message_id, "data": data})

    def block_bot(self, blocked: bool = True) -> None:
        """Block (or unblock) the bot: its messages to this user then fail with 403."""
        self.driver._call("POST", "/_control/block", body={"user_id": self.user_id, "blocked": blocked})

    # -- reading

    def wait_replies(self, min_count: int = 1, timeout: float = 20.0, *, settle: float = 0.0,
                     include_signals: bool = False) -> list[BotMessage]:
        """What the bot did in this chat (topic) since the last look; see BotApiDriver.wait_replies."""
        return self.driver.wait_replies(self.chat_id, min_count, timeout, thread_id=self.thread_id,
                                        settle=settle, include_signals=include_signals)

    def wait_reply(self, timeout: float = 20.0) -> BotMessage:
        """Exactly the next bot output (the first, if several arrived)."""
        return self.wait_replies(1, timeout)[0]

    def expect_silence(self, within: float = 1.0) -> None:
        """Assert the bot says nothing here for `within` seconds."""
        try:
            said = self.wait_replies(1, within)
        except BotApiTimeout:
            return
        raise AssertionError(f"expected no reply, bot said: {[str(m) for m in said]}")

    def skip_replies(self) -> None:
        self.driver.skip_replies(self.chat_id, self.thread_id)

    @property
    def callback_answers(self) -> list[BotMessage]:
        """answerCallbackQuery calls seen so far in this chat (collected while waiting for replies)."""
        return self.driver.callback_answers.get(self.chat_id, [])

    def wait_callback_answer(self, timeout: float = 10.0) -> BotMessage:
        """The oldest answerCallbackQuery to this user's presses not yet returned by this method."""
        deadline = time.monotonic() + timeout
        after = 0
        while True:
            remaining = deadline - time.monotonic()
            found = self.driver.outputs(self.chat_id, after=after, wait=max(0.0, remaining),
                                        kinds=["callback_answer"])
            for answer in found:
                if answer.raw.get("user_id") == self.user_id and answer.seq not in self.driver.answers_taken:
                    self.driver.answers_taken.add(answer.seq)
                    return answer
            if found:
                after = found[-1].seq
            if remaining <= 0:
                raise BotApiTimeout(f"no answerCallbackQuery in chat {self.chat_id} within {timeout}s")

    def keyboard(self) -> list[list[str]]:
        """The reply keyboard currently shown under the input field ([] if none)."""
        kb = self.driver._call("GET", f"/_control/chats/{self.chat_id}/keyboard")
        if not kb:
            return []
        return [[b if isinstance(b, str) else b["text"] for b in row] for row in kb["keyboard"]]

    def transcript(self) -> str:
        return self.driver.transcript(self.chat_id)


class TelegramGroup:
    """A group or forum supergroup the bot is in (e.g. the staff group)."""

    def __init__(self, driver: BotApiDriver, chat_id: int, title: str) -> None:
        self.driver = driver
        self.chat_id = chat_id
        self.title = title

    def add_member(self, user: TelegramUser, status: str = "member") -> TelegramUser:
        """Put a user in the group (member/administrator/creator/restricted/left/kicked)."""
        self.driver._call("POST", f"/_control/chats/{self.chat_id}/members",
                          body={"user_id": user.user_id, "status": status})
        return user.in_chat(self)

    def create_topic(self, by: TelegramUser, name: str) -> int:
        """A member opens a forum topic; returns its message_thread_id."""
        topic = self.driver._call("POST", f"/_control/chats/{self.chat_id}/topics",
                                  body={"user_id": by.user_id, "name": name})
        return int(topic["message_thread_id"])

    def topics(self) -> list[JSON]:
        """Forum topics: message_thread_id, name, icon_color, closed."""
        return self.driver._call("GET", f"/_control/chats/{self.chat_id}/topics")  # type: ignore[no-any-return]

    def wait_replies(self, min_count: int = 1, timeout: float = 20.0, *, thread_id: int | None = None,
                     settle: float = 0.0, include_signals: bool = False) -> list[BotMessage]:
        return self.driver.wait_replies(self.chat_id, min_count, timeout, thread_id=thread_id,
                                        settle=settle, include_signals=include_signals)

    def skip_replies(self, thread_id: int | None = None) -> None:
        self.driver.skip_replies(self.chat_id, thread_id)

    def transcript(self) -> str:
        return self.driver.transcript(self.chat_id)
