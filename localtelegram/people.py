"""Telegram users and groups for a test or a terminal client, acting through the driver."""

from __future__ import annotations

import base64
import time

from .driver import JSON, BotApiDriver, BotApiTimeout, BotMessage


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

    def send_location(self, latitude: float, longitude: float, *, live_period: int | None = None) -> JSON:
        """Share a position; with live_period a live location, which moves with `move_location`."""
        return self._send({"type": "location", "latitude": latitude, "longitude": longitude,
                           "live_period": live_period})

    def edit(self, message_id: int, text: str) -> JSON:
        """Edit a text this user sent: the bot gets an edited_message (if it asked for them)."""
        return self._edit({"message_id": message_id, "text": text})

    def move_location(self, message_id: int, latitude: float, longitude: float) -> JSON:
        """The phone moves while sharing a live location: an edited_message every few seconds."""
        return self._edit({"message_id": message_id, "latitude": latitude, "longitude": longitude})

    def _edit(self, body: JSON) -> JSON:
        body = {"user_id": self.user_id, **body}
        if self.chat_id != self.user_id:
            body["chat_id"] = self.chat_id
        result = self.driver._call("POST", "/_control/edit", body=body)
        return result["message"]  # type: ignore[no-any-return]

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
