"""Updates: what users do (messages, edits, button presses), delivered by getUpdates or webhook."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .content import Content
from .formatting import auto_entities
from .model import DEFAULT_UPDATE_TYPES, JSON, ApiError, Chat, Params, bad_request, button_text

log = logging.getLogger(__name__)


class Updates(Content):
    """What users do becomes updates; the bot reads them by long polling or by webhook."""

    def push_update(self, kind: str, payload: JSON) -> JSON:
        update: JSON = {"update_id": next(self._update_ids), kind: payload}
        self._last_update_id = update["update_id"]
        self.updates.append(update)
        self._changed()
        return update

    def _allowed(self, update: JSON) -> bool:
        kinds = set(self.allowed_updates) if self.allowed_updates else DEFAULT_UPDATE_TYPES
        return any(k in kinds for k in update if k != "update_id")

    def _pending(self) -> list[JSON]:
        return [u for u in self.updates if self._allowed(u)]

    def _bot_sees(self, chat: Chat, msg: JSON) -> bool:
        # Privacy mode: in groups a non-admin bot only sees commands and replies to itself.
        if chat.type == "private" or not self.privacy_mode:
            return True
        if chat.members.get(self.bot_user["id"]) in ("administrator", "creator"):
            return True
        if str(msg.get("text", "")).startswith("/"):
            return True
        reply = msg.get("reply_to_message") or {}
        return bool(reply.get("_from_bot")) and not reply.get("forum_topic_created")

    def user_message(self, user_id: int, chat_id: int | None = None, *, thread_id: int | None = None,
                     reply_to: int | None = None, **content: Any) -> JSON:
        """A user writes in a chat (their private chat with the bot unless chat_id is given)."""
        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(user_id, f"User {user_id}")
        chat = self._chat(chat_id if chat_id is not None else user_id)
        if chat.type != "private":
            if chat.members.get(user_id, "left") in ("left", "kicked"):
                raise bad_request(f"user {user_id} is not a member of chat {chat.id}")
        elif user_id != chat.id:
            raise bad_request("a user can only write in their own private chat")
        if chat.type == "private" and user_id in self.blocked:
            # Writing to a bot you blocked unblocks it, like /start in the app does.
            self.blocked.discard(user_id)
        reply_msg = None
        if thread_id is not None:
            if not chat.is_forum or thread_id not in chat.topics:
                raise bad_request("message thread not found")
            reply_msg = chat.messages.get(thread_id)
        if reply_to is not None:
            reply_msg = chat.messages.get(reply_to)
            if reply_msg is None or reply_msg.get("_deleted"):
                raise bad_request("message to be replied not found")
        if reply_msg is not None:
            content["reply_to_message"] = reply_msg
        text = content.get("text")
        if isinstance(text, str):
            if not text:
                raise bad_request("message text is empty")
            entities = auto_entities(text)
            if entities:
                content["entities"] = entities
        msg = self._new_message(chat, user, thread_id, **content)
        public = self.public_message(msg)
        if self._bot_sees(chat, msg):
            self.push_update("message", public)
        self._changed()
        return public

    def user_edit(self, user_id: int, chat_id: int | None, message_id: int, *, text: str | None = None,
                  latitude: float | None = None, longitude: float | None = None) -> JSON:
        """A user edits their text, or their live location moves: the bot gets an edited_message."""
        chat = self._chat(chat_id if chat_id is not None else user_id)
        msg = chat.messages.get(message_id)
        if msg is None or msg.get("_deleted"):
            raise bad_request("message to edit not found")
        if msg.get("_from_bot") or (msg.get("from") or {}).get("id") != user_id:
            raise bad_request("message can't be edited")
        if text is not None:
            if "text" not in msg:
                raise bad_request("there is no text in the message to edit")
            if not text:
                raise bad_request("message text is empty")
            msg["text"] = text
            msg.pop("entities", None)
            entities = auto_entities(text)
            if entities:
                msg["entities"] = entities
        elif latitude is not None and longitude is not None:
            location = msg.get("location")
            if not isinstance(location, dict) or not location.get("live_period"):
                raise bad_request("message can't be edited")
            msg["location"] = {**location, "latitude": latitude, "longitude": longitude}
        else:
            raise bad_request("give text, or latitude and longitude")
        msg["edit_date"] = self._now()
        public = self.public_message(msg)
        if self._bot_sees(chat, msg):
            self.push_update("edited_message", public)
        self._changed()
        return public

    def press(self, user_id: int, chat_id: int | None = None, *, button: str | None = None,
              data: str | None = None, message_id: int | None = None, keyboard_only: bool = False) -> JSON:
        """A user taps a button: an inline one gives a callback query, a keyboard one sends its text.

        keyboard_only taps the reply keyboard under the input field even when a message above
        shows an inline button with the same title.
        """
        chat = self._chat(chat_id if chat_id is not None else user_id)
        user = self.users.get(user_id) or self.add_user(user_id, f"User {user_id}")
        if data is not None:
            if message_id is None:
                raise bad_request("message_id is required with raw callback data")
            target = chat.messages.get(message_id)
            if target is None or target.get("_deleted"):
                raise bad_request("message not found")
            return self._callback(chat, user, target, data)
        if button is None:
            raise bad_request("give button or data")
        wanted: str = button
        candidates = [
            m for mid, m in sorted(chat.messages.items(), reverse=True)
            if m.get("_from_bot") and not m.get("_deleted") and "reply_markup" in m
            and (message_id is None or mid == message_id) and not keyboard_only
        ]
        # Exact title first, then a forgiving case/space-insensitive match.
        matchers: list[Callable[[str], bool]] = [
            lambda t: t == wanted, lambda t: t.strip().casefold() == wanted.strip().casefold(),
        ]
        for matcher in matchers:
            for msg in candidates:
                for row in msg["reply_markup"].get("inline_keyboard", []):
                    for b in row:
                        if matcher(button_text(b)):
                            if "callback_data" in b:
                                return self._callback(chat, user, msg, b["callback_data"])
                            if "url" in b:
                                return {"type": "url", "url": b["url"], "message_id": msg["message_id"]}
                            raise bad_request(f"button {button!r} has no callback_data ({sorted(b)})")
            keyboard = chat.reply_keyboard
            if keyboard is not None and message_id is None:
                for row in keyboard["keyboard"]:
                    for b in row:
                        if matcher(button_text(b)):
                            return self._keyboard_press(chat, user, keyboard, b)
        where = "reply keyboard" if keyboard_only else "bot's messages"
        raise bad_request(f"no button {button!r} on the {where} in chat {chat.id}")

    def _keyboard_press(self, chat: Chat, user: JSON, keyboard: JSON, button: Any) -> JSON:
        if isinstance(button, dict) and button.get("request_contact"):
            content: JSON = {"contact": {
                "phone_number": user.get("_phone", f"+39333{user['id']:07d}"[:13]),
                "first_name": user["first_name"], "user_id": user["id"],
            }}
        elif isinstance(button, dict) and button.get("request_location"):
            raise bad_request("this button shares a location: send one with send_location")
        else:
            content = {"text": button_text(button)}
        if keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None
        msg = self.user_message(user["id"], chat.id if chat.type != "private" else None, **content)
        return {"type": "message", "message": msg}

    def _callback(self, chat: Chat, user: JSON, msg: JSON, data: str) -> JSON:
        query_id = str(secrets.randbits(63))
        instance = str(int(hashlib.sha1(f"{chat.id}".encode()).hexdigest()[:15], 16))
        query = {"id": query_id, "from": user, "message": self.public_message(msg),
                 "chat_instance": instance, "data": data}
        self.callback_queries[query_id] = {"chat_id": chat.id, "message_id": msg["message_id"],
                                           "answered": False, "user_id": user["id"]}
        update = self.push_update("callback_query", query)
        return {"type": "callback_query", "callback_query_id": query_id,
                "update_id": update["update_id"], "message_id": msg["message_id"]}

    def create_topic_as_user(self, chat_id: int, user_id: int, name: str, icon_color: int = 7322096) -> JSON:
        chat = self._chat(chat_id)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        user = self.users.get(user_id) or self.add_user(user_id, f"User {user_id}")
        return self._create_topic(chat, user, name, icon_color)

    async def m_getupdates(self, p: Params) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = p.integer("offset", 0) or 0
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = min(max(p.integer("timeout", 0) or 0, 0), 50)
        allowed = p.json("allowed_updates")
        if allowed is not None:
            self.allowed_updates = list(allowed)
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        # A newer getUpdates ends an older one, as with two bot instances on one token.
        self._poll_generation += 1
        generation = self._poll_generation
        self._changed()
        await self._wait_for(
            lambda: bool(self._pending()) or self._poll_generation != generation or self.webhook is not None,
            timeout,
        )
        if self._poll_generation != generation:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only "
                                "one bot instance is running")
        self.updates = [u for u in self.updates if self._allowed(u)]
        return self.updates[:limit]

    async def m_setwebhook(self, p: Params) -> bool:
        url = p.string("url") or ""
        if not url:
            return await self.m_deletewebhook(p)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            # Only loopback: tests must never make this server call out to the internet.
            raise bad_request("bad webhook: this test server only delivers to loopback addresses")
        secret = p.string("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.json("allowed_updates")
        if allowed is not None:
            self.allowed_updates = list(allowed)
        if p.flag("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {"url": url, "secret_token": secret,
                        "max_connections": p.integer("max_connections", 40) or 40}
        self.webhook_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        self._changed()
        return True

    async def m_deletewebhook(self, p: Params) -> bool:
        self.webhook = None
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        if p.flag("drop_pending_updates"):
            self.updates.clear()
        self._changed()
        return True

    async def m_getwebhookinfo(self, p: Params) -> JSON:
        info: JSON = {"url": self.webhook["url"] if self.webhook else "", "has_custom_certificate": False,
                      "pending_update_count": len(self._pending())}
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
        if self.webhook_error:
            info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    @staticmethod
    def _order_key(update: JSON) -> object:
        """Updates of one chat (or, without a chat, of one user) are delivered in order."""
        for kind, payload in update.items():
            if kind == "update_id" or not isinstance(payload, dict):
                continue
            chat = payload.get("chat") or (payload.get("message") or {}).get("chat") or {}
            if "id" in chat:
                return ("chat", chat["id"])
            if "id" in (payload.get("from") or {}):
                return ("user", payload["from"]["id"])
        return ("update", update.get("update_id"))

    def _startable(self, in_flight: dict[int, asyncio.Task[None]], limit: int) -> list[JSON]:
        """Pending updates that may go now: the oldest of each chat, none of a chat in flight."""
        ready: list[JSON] = []
        seen: set[object] = set()
        for update in self._pending():
            key = self._order_key(update)
            if key in seen:
                continue
            seen.add(key)
            if update["update_id"] not in in_flight and len(in_flight) + len(ready) < limit:
                ready.append(update)
        return ready

    async def _deliver_webhooks(self) -> None:
        """Post pending updates as Telegram does: up to max_connections at once, each chat in order.

        Each update is retried with backoff until the bot takes it; a chat's next update waits.
        """
        if self._session is None:
            self._session = aiohttp.ClientSession()
        in_flight: dict[int, asyncio.Task[None]] = {}
        try:
            while self.webhook is not None and not self._closing:
                limit = max(1, min(int(self.webhook.get("max_connections") or 40), 100))
                ready = self._startable(in_flight, limit)
                if not ready:
                    await self._wait_for(partial(self._can_start, in_flight, limit), 30)
                    continue
                for update in ready:
                    task = asyncio.create_task(self._deliver_one(update))
                    in_flight[update["update_id"]] = task
                    task.add_done_callback(partial(self._landed, in_flight, update["update_id"]))
        finally:
            for task in in_flight.values():
                task.cancel()

    def _can_start(self, in_flight: dict[int, asyncio.Task[None]], limit: int) -> bool:
        return self.webhook is None or bool(self._startable(in_flight, limit))

    def _landed(self, in_flight: dict[int, asyncio.Task[None]], update_id: int, _task: object) -> None:
        in_flight.pop(update_id, None)
        self._changed()

    async def _deliver_one(self, update: JSON) -> None:
        assert self._session is not None
        backoff = 0.1
        while self.webhook is not None and not self._closing:
            hook = self.webhook
            headers = {"Content-Type": "application/json"}
            if hook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
            try:
                async with self._session.post(hook["url"], data=json.dumps(update), headers=headers,
                                              timeout=aiohttp.ClientTimeout(total=60)) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        if update in self.updates:
                            self.updates.remove(update)
                        self.webhook_error = None
                        return
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                error = f"Connection error: {exc.__class__.__name__}: {exc}"
            self.webhook_error = (self._now(), error)
            log.debug("webhook delivery failed: %s", error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    def _create_topic(self, chat: Chat, creator: JSON, name: str, icon_color: int) -> JSON:
        created = {"name": name, "icon_color": icon_color}
        msg = self._new_message(chat, creator, None, from_bot=creator is self.bot_user,
                                forum_topic_created=created)
        # A topic's thread id is the id of the service message that created it.
        thread_id = msg["message_id"]
        msg["message_thread_id"] = thread_id
        msg["is_topic_message"] = True
        topic = {"message_thread_id": thread_id, "name": name, "icon_color": icon_color}
        chat.topics[thread_id] = {**topic, "closed": False}
        if creator is not self.bot_user and self._bot_sees(chat, msg):
            self.push_update("message", self.public_message(msg))
        return topic
