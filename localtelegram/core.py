"""The local Bot API's state: users, chats, updates, calls, and the faults a test asks for."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from .model import JSON, MEMBER_STATUSES, ApiError, Chat, Params, StoredFile, bad_request


class Core:
    """In-memory Telegram: one bot, its users and chats; the concerns build on it."""

    def __init__(self, token: str = "123456:LOCAL-TEST-TOKEN", *, bot_username: str = "sportello_test_bot",
                 bot_name: str = "Sportello Digitale (test)", privacy_mode: bool = True) -> None:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]), "is_bot": True, "first_name": bot_name,
            "username": bot_username,
        }
        self.privacy_mode = privacy_mode
        self._event = asyncio.Event()
        self._closing = False
        self._seq = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._poll_generation = 0
        self._last_update_id = 0
        self.reset()

    def reset(self) -> None:
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, Chat] = {}
        self.blocked: set[int] = set()
        self.updates: list[JSON] = []
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, JSON] = {}
        self.commands: dict[str, list[JSON]] = {}
        self.calls: list[JSON] = []
        self.webhook: JSON | None = None
        self.webhook_error: tuple[int, str] | None = None
        self.allowed_updates: list[str] = []
        self._throttle_count = 0
        self._throttle_retry_after = 1
        self._throttle_methods: set[str] | None = None
        self._failures: dict[str, list[ApiError]] = {}
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        self._changed()

    def throttle(self, count: int, retry_after: int = 1, methods: list[str] | None = None) -> None:
        """Make the next `count` send* calls (or calls of `methods`) fail with 429 retry_after."""
        self._throttle_count = count
        self._throttle_retry_after = retry_after
        self._throttle_methods = set(methods) if methods else None

    def fail(self, method: str, count: int = 1, error_code: int = 400, description: str | None = None) -> None:
        """Make the next `count` calls of `method` (any case) fail with this error, then work again."""
        text = description or f"{'Bad Request' if error_code == 400 else 'Error'}: {method} failed"
        self._failures[method.lower()] = [ApiError(error_code, text) for _ in range(count)]

    def _check_failure(self, method: str) -> None:
        failures = self._failures.get(method.lower())
        if failures:
            raise failures.pop()

    def _changed(self) -> None:
        # Wake every long poll; each one re-checks its own condition.
        self._event.set()
        self._event = asyncio.Event()

    async def _wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return predicate()
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
        return True

    async def _on_shutdown(self, app: web.Application) -> None:
        self._closing = True
        self._changed()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
        if self._session is not None:
            await self._session.close()

    def _now(self) -> int:
        return int(time.time())

    def _record(self, chat: Chat, kind: str, **data: Any) -> JSON:
        entry = {"seq": next(self._seq), "kind": kind, "chat_id": chat.id, "date": self._now(), **data}
        chat.outputs.append(entry)
        self._changed()
        return entry

    def add_user(self, user_id: int, first_name: str = "Test", *, last_name: str | None = None,
                 username: str | None = None, language_code: str | None = "it",
                 is_premium: bool = False) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        if is_premium:
            user["is_premium"] = True
        self.users[user_id] = user
        chat = self.chats.get(user_id)
        if chat is None:
            chat = self.chats[user_id] = Chat(id=user_id, type="private")
        chat.first_name, chat.last_name, chat.username = first_name, last_name, username
        return user

    def add_chat(self, chat_id: int, title: str, *, type: str = "supergroup", is_forum: bool = False,
                 username: str | None = None, bot_status: str = "administrator") -> Chat:
        if type not in ("group", "supergroup", "channel"):
            raise bad_request("chat type must be group, supergroup or channel")
        if is_forum and type != "supergroup":
            raise bad_request("only supergroups can be forums")
        chat = self.chats.get(chat_id) or Chat(id=chat_id, type=type)
        chat.type, chat.title, chat.is_forum, chat.username = type, title, is_forum, username
        chat.members[self.bot_user["id"]] = bot_status
        self.chats[chat_id] = chat
        return chat

    def set_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        if status not in MEMBER_STATUSES:
            raise bad_request(f"unknown member status {status}")
        chat = self._chat(chat_id)
        if user_id not in self.users and user_id != self.bot_user["id"]:
            self.add_user(user_id, f"User {user_id}")
        chat.members[user_id] = status

    def _chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _resolve_chat(self, params: Params, name: str = "chat_id") -> Chat:
        raw = params.values.get(name)
        if raw in (None, ""):
            raise bad_request(f"{name} is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == raw[1:].lower():
                    return chat
            raise bad_request("chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        return self._chat(chat_id)

    def _writable_chat(self, params: Params) -> Chat:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            if chat.id in self.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started and not any(not m.get("_from_bot") for m in chat.messages.values()):
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        else:
            status = chat.members.get(self.bot_user["id"], "left")
            if status in ("left", "kicked"):
                raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _thread(self, chat: Chat, params: Params) -> int | None:
        thread_id = params.integer("message_thread_id")
        if thread_id is None or not chat.is_forum:
            # Telegram ignores thread ids outside forums for private chats and plain groups.
            return thread_id if chat.is_forum else None
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise bad_request("message thread not found")
        return thread_id

    def _check_throttle(self, method: str) -> None:
        if self._throttle_count <= 0:
            return
        applies = method in self._throttle_methods if self._throttle_methods else method.startswith("send")
        if applies:
            self._throttle_count -= 1
            retry = self._throttle_retry_after
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)

    @staticmethod
    def _reply(result: Any = None, error: ApiError | None = None) -> web.Response:
        if error is None:
            return web.json_response({"ok": True, "result": result})
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.code)
