"""Local Telegram Bot API server (aiohttp) written from the published Bot API contract, plus a control API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import logging
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .formatting import (
    EntityParseError,
    auto_entities,
    image_size,
    parse_text,
    utf16_len,
)

log = logging.getLogger(__name__)

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files for bots
MAX_UPLOAD = 50 * 1024 * 1024  # bots may upload up to 50 MB
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
FORUM_ICON_COLORS = {7322096, 16766590, 13338331, 9367192, 16749490, 16478047}
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
# Update types delivered when allowed_updates is empty (the Bot API default).
DEFAULT_UPDATE_TYPES = {
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
    "purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_join_request",
    "chat_boost", "removed_chat_boost",
}
MEMBER_STATUSES = {"creator", "administrator", "member", "restricted", "left", "kicked"}
ADMIN_RIGHTS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
    "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
    "can_post_messages", "can_edit_messages", "can_pin_messages", "can_manage_topics",
)
RESTRICTED_RIGHTS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews", "can_change_info",
    "can_invite_users", "can_pin_messages", "can_manage_topics", "can_edit_tag",
)


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # photo / document / voice / sticker ...
    mime_type: str | None = None
    file_name: str | None = None
    file_path: str | None = None


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class Chat:
    id: int
    type: str  # private / group / supergroup
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: int = 1
    topics: dict[int, JSON] = field(default_factory=dict)
    reply_keyboard: JSON | None = None
    outputs: list[JSON] = field(default_factory=list)

    def public(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or ""
            if self.last_name:
                data["last_name"] = self.last_name
        else:
            data["title"] = self.title or ""
            if self.is_forum:
                data["is_forum"] = True
        if self.username:
            data["username"] = self.username
        return data


class Params:
    """Request parameters as Telegram reads them: JSON values, or strings holding JSON."""

    def __init__(self, values: JSON, files: dict[str, Upload]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def public(self) -> JSON:
        shown: JSON = dict(self.values)
        for name, upload in self.files.items():
            shown[name] = f"<upload {upload.filename!r} {len(upload.data)} bytes>"
        return shown


Handler = Callable[[Params], Awaitable[Any]]


def _button_text(button: Any) -> str:
    return button if isinstance(button, str) else str(button.get("text", ""))


def _control(handler: Callable[[FakeBotApi, web.Request], Awaitable[Any]]
             ) -> Callable[[FakeBotApi, web.Request], Awaitable[web.Response]]:
    async def wrapper(self: FakeBotApi, request: web.Request) -> web.Response:
        try:
            result = await handler(self, request)
        except ApiError as exc:
            return self._reply(error=exc)
        except (KeyError, TypeError, ValueError) as exc:
            return self._reply(error=bad_request(f"control API: {exc.__class__.__name__}: {exc}"))
        return self._reply(result)
    return wrapper


class FakeBotApi:
    """In-memory Telegram: one bot, its users and chats, and an HTTP face for both.

    Bot API: ``/bot{token}/{method}`` and ``/file/bot{token}/{file_path}``.
    Control API (JSON in, ``{"ok", "result"}`` out), used by tests and terminal clients:
      GET  /_control/info                      token, bot user, webhook, pending update count
      POST /_control/reset                     forget users, chats, updates, files, webhook
      POST /_control/users                     {id, first_name, last_name?, username?, language_code?, phone_number?}
      POST /_control/chats                     {id, title, type=supergroup|group, is_forum, bot_status, members:[{user_id, status}]}
      POST /_control/chats/{id}/members        {user_id, status}
      POST /_control/chats/{id}/topics         {user_id, name}: a member opens a forum topic
      GET  /_control/chats/{id}/topics
      GET  /_control/chats/{id}/outputs        ?after=SEQ&wait=S&min_count=N&kinds=a,b&thread_id=T
      GET  /_control/chats/{id}/messages       current state of every message, both sides
      GET  /_control/chats/{id}/keyboard       reply keyboard shown now (or null)
      POST /_control/send                      {user_id, chat_id?, thread_id?, reply_to?, type, ...}: type is
                                               text{text} photo{data(b64),caption} document{data,file_name,mime_type}
                                               voice{data,duration} location{latitude,longitude}
                                               contact{phone_number,first_name,contact_user_id} sticker{emoji}
                                               audio{data,duration,title,performer,file_name,mime_type}
                                               video{data,duration,width,height} video_note{data,duration,length}
                                               animation{data,duration,width,height,file_name} dice{emoji,value}
                                               poll{question,options}
      POST /_control/press                     {user_id, chat_id?, button | message_id+data, keyboard_only?}
      POST /_control/updates                   {update: {...}}: inject a raw update
      GET  /_control/updates?wait=S            pending updates (waits until the bot consumed them)
      POST /_control/throttle                  {count, retry_after, methods?}
      POST /_control/block                     {user_id, blocked}
      GET  /_control/files/{file_id}           raw bytes
      GET  /_control/calls?after=&method=      Bot API calls made, with params and outcome
      GET  /_control/commands                  setMyCommands state
    """

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
        self.app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        self._setup_routes()
        self.app.on_shutdown.append(self._on_shutdown)

    # ------------------------------------------------------------------ state

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
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        self._changed()

    def throttle(self, count: int, retry_after: int = 1, methods: list[str] | None = None) -> None:
        """Make the next `count` send* calls (or calls of `methods`) fail with 429 retry_after."""
        self._throttle_count = count
        self._throttle_retry_after = retry_after
        self._throttle_methods = set(methods) if methods else None

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
            if not any(not m.get("_from_bot") for m in chat.messages.values()):
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

    # ---------------------------------------------------------------- files

    def store_file(self, data: bytes, kind: str, *, mime_type: str | None = None,
                   file_name: str | None = None) -> StoredFile:
        n = next(self._file_ids)
        prefix = {"photo": "AgAC", "document": "BQAC", "voice": "AwAC", "sticker": "CAAC", "audio": "CQAC",
                  "video": "BAAC", "video_note": "DQAC", "animation": "CgAC"}.get(kind, "BAAC")
        file_id = f"{prefix}{n:06d}{secrets.token_urlsafe(18)}"
        unique = "AQAD" + base64.urlsafe_b64encode(hashlib.sha1(file_id.encode()).digest()[:9]).decode()
        stored = StoredFile(file_id, unique, data, kind, mime_type, file_name)
        self.files[file_id] = stored
        return stored

    def _photo_sizes(self, data: bytes) -> list[JSON]:
        size = image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width <= 0 or height <= 0 or width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes: list[JSON] = []
        # Telegram keeps thumbnails of 90/320/800 px and a main copy of at most 1280 px;
        # here every size serves the original bytes, which is all a bot can tell apart.
        longest = max(width, height)
        limits = [limit for limit in (90, 320, 800) if limit < longest] + [min(longest, 1280)]
        for limit in limits:
            scale = limit / longest
            stored = self.store_file(data, "photo", mime_type="image/jpeg")
            sizes.append({
                "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(data), "width": max(1, round(width * scale)),
                "height": max(1, round(height * scale)),
            })
        return sizes

    def _file_param(self, params: Params, name: str, kind: str) -> tuple[StoredFile | None, Upload | None]:
        """The file a send* call refers to: a fresh upload, attach://, or an existing file_id."""
        upload = params.files.get(name)
        raw = params.values.get(name)
        if upload is None and isinstance(raw, str) and raw.startswith("attach://"):
            upload = params.files.get(raw[len("attach://"):])
        if upload is not None:
            if len(upload.data) == 0:
                raise bad_request("file must be non-empty")
            return None, upload
        if raw in (None, ""):
            raise bad_request(f"there is no {name} in the request")
        if not isinstance(raw, str):
            raise bad_request("wrong file identifier/HTTP URL specified")
        stored = self.files.get(raw)
        if stored is None:
            # URLs would make Telegram fetch from the internet; nothing leaves loopback here.
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}")
        return stored, None

    # ------------------------------------------------------------- messages

    def _new_message(self, chat: Chat, sender: JSON, thread_id: int | None = None,
                     from_bot: bool = False, **content: Any) -> JSON:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        msg: JSON = {"message_id": message_id, "from": sender, "chat": chat.public(), "date": self._now()}
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
        msg.update({k: v for k, v in content.items() if v is not None})
        chat.messages[message_id] = msg
        if from_bot:
            msg["_from_bot"] = True
        return msg

    @staticmethod
    def public_message(msg: JSON) -> JSON:
        out = {k: v for k, v in msg.items() if not k.startswith("_")}
        reply = out.get("reply_to_message")
        if isinstance(reply, dict):
            out["reply_to_message"] = {k: v for k, v in reply.items() if not k.startswith("_") and k != "reply_to_message"}
        return out

    def _text_and_entities(self, params: Params, field_name: str, limit: int, empty_error: str | None,
                           too_long: str) -> tuple[str | None, list[JSON] | None]:
        raw = params.string(field_name)
        if raw is None or raw == "":
            if empty_error:
                raise bad_request(empty_error)
            return None, None
        entities_param = params.json("entities" if field_name == "text" else "caption_entities")
        parse_mode = params.string("parse_mode")
        if entities_param:
            text, entities = raw, list(entities_param)
        else:
            try:
                text, entities = parse_text(raw, parse_mode)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if not text.strip():
            if empty_error:
                raise bad_request(empty_error)
            return None, None
        if utf16_len(text) > limit:
            raise bad_request(too_long)
        return text, entities or None

    def _reply_markup(self, params: Params) -> JSON | None:
        markup = params.json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                    actions = [k for k in button if k != "text"]
                    if len(actions) != 1:
                        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must have exactly one of the optional fields")
                    if "callback_data" in button:
                        data = button["callback_data"]
                        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                            raise bad_request("BUTTON_DATA_INVALID")
                    if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                        raise bad_request("BUTTON_URL_INVALID")
            return markup
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("field \"keyboard\" of the ReplyKeyboardMarkup must be an Array of Arrays")
            if not any(rows):
                raise bad_request("keyboard must be non-empty")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise bad_request("can't find field \"inline_keyboard\"")

    def _reply_to(self, chat: Chat, params: Params) -> JSON | None:
        reply = params.json("reply_parameters")
        if reply is None and params.has("reply_to_message_id"):
            reply = {"message_id": params.integer("reply_to_message_id"),
                     "allow_sending_without_reply": params.flag("allow_sending_without_reply")}
        if not reply:
            return None
        target_chat = chat
        if reply.get("chat_id") not in (None, chat.id):
            target_chat = self._resolve_chat(Params({"chat_id": reply["chat_id"]}, {}))
        target = target_chat.messages.get(int(reply.get("message_id", 0)))
        if target is None or target.get("_deleted"):
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target

    def _check_throttle(self, method: str) -> None:
        if self._throttle_count <= 0:
            return
        applies = method in self._throttle_methods if self._throttle_methods else method.startswith("send")
        if applies:
            self._throttle_count -= 1
            retry = self._throttle_retry_after
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)

    def _sent(self, chat: Chat, kind: str, method: str, params: Params, thread_id: int | None,
              markup: JSON | None, **content: Any) -> JSON:
        reply_to = self._reply_to(chat, params)
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        if markup is not None and "inline_keyboard" in markup:
            # Message.reply_markup only ever carries inline keyboards.
            content["reply_markup"] = markup
        msg = self._new_message(chat, self.bot_user, thread_id, from_bot=True, **content)
        if markup is not None:
            if "keyboard" in markup:
                chat.reply_keyboard = {**markup, "message_id": msg["message_id"]}
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self._record(chat, kind, **self._output_fields(msg), reply_markup=markup, method=method,
                     parse_mode=params.string("parse_mode"))
        return self.public_message(msg)

    def _output_fields(self, msg: JSON) -> JSON:
        fields: JSON = {
            "message_id": msg["message_id"], "message_thread_id": msg.get("message_thread_id"),
            "text": msg.get("text"), "caption": msg.get("caption"),
            "entities": msg.get("entities") or msg.get("caption_entities"),
            "reply_to_message_id": (msg.get("reply_to_message") or {}).get("message_id"),
        }
        if "photo" in msg:
            largest = msg["photo"][-1]
            fields.update(file_id=largest["file_id"], width=largest["width"], height=largest["height"],
                          file_size=largest["file_size"])
        for key in ("document", "voice", "sticker", "audio", "video"):
            if key in msg:
                media = msg[key]
                fields.update(file_id=media["file_id"], file_name=media.get("file_name"),
                              mime_type=media.get("mime_type"), file_size=media.get("file_size"))
        if "location" in msg:
            fields["location"] = msg["location"]
        return fields

    @staticmethod
    def _content_kind(msg: JSON) -> str:
        # An animation also carries a document (as in the Bot API): it is named first.
        for key in ("text", "photo", "animation", "document", "voice", "sticker", "location", "contact", "audio",
                    "video", "video_note", "dice", "poll"):
            if key in msg:
                return key
        return "message"

    def _editable(self, params: Params) -> tuple[Chat, JSON]:
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None or msg.get("_deleted"):
            raise bad_request("message to edit not found")
        if not msg.get("_from_bot"):
            raise bad_request("message can't be edited")
        return chat, msg

    def _finish_edit(self, chat: Chat, msg: JSON, what: str, changes: JSON, markup: JSON | None) -> JSON:
        new_markup = markup if markup is not None and "inline_keyboard" in markup else None
        unchanged = all(msg.get(k) == v for k, v in changes.items()) and msg.get("reply_markup") == new_markup
        if unchanged:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            if value is None:
                msg.pop(key, None)
            else:
                msg[key] = value
        # Editing without reply_markup drops the inline keyboard, as Telegram does.
        if new_markup is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = new_markup
        msg["edit_date"] = self._now()
        self._record(chat, "edit", edit=what, **self._output_fields(msg), reply_markup=new_markup,
                     method=f"editMessage{what.title().replace('_', '')}")
        return self.public_message(msg)

    # --------------------------------------------------------------- updates

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
                        if matcher(_button_text(b)):
                            if "callback_data" in b:
                                return self._callback(chat, user, msg, b["callback_data"])
                            if "url" in b:
                                return {"type": "url", "url": b["url"], "message_id": msg["message_id"]}
                            raise bad_request(f"button {button!r} has no callback_data ({sorted(b)})")
            keyboard = chat.reply_keyboard
            if keyboard is not None and message_id is None:
                for row in keyboard["keyboard"]:
                    for b in row:
                        if matcher(_button_text(b)):
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
            content = {"text": _button_text(button)}
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

    # ----------------------------------------------------------- HTTP layer

    def _setup_routes(self) -> None:
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        control: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            ("GET", "/_control/info", self._c_info),
            ("POST", "/_control/reset", self._c_reset),
            ("POST", "/_control/users", self._c_user),
            ("POST", "/_control/chats", self._c_chat),
            ("POST", "/_control/chats/{chat_id}/members", self._c_member),
            ("POST", "/_control/chats/{chat_id}/topics", self._c_topic),
            ("GET", "/_control/chats/{chat_id}/topics", self._c_topics),
            ("GET", "/_control/chats/{chat_id}/outputs", self._c_outputs),
            ("GET", "/_control/chats/{chat_id}/messages", self._c_messages),
            ("GET", "/_control/chats/{chat_id}/keyboard", self._c_keyboard),
            ("POST", "/_control/send", self._c_send),
            ("POST", "/_control/press", self._c_press),
            ("POST", "/_control/updates", self._c_raw_update),
            ("GET", "/_control/updates", self._c_pending),
            ("POST", "/_control/throttle", self._c_throttle),
            ("POST", "/_control/block", self._c_block),
            ("GET", "/_control/files/{file_id}", self._c_file),
            ("GET", "/_control/calls", self._c_calls),
            ("GET", "/_control/commands", self._c_commands),
        ]
        for verb, path, handler in control:
            self.app.router.add_route(verb, path, handler)

    @staticmethod
    def _reply(result: Any = None, error: ApiError | None = None) -> web.Response:
        if error is None:
            return web.json_response({"ok": True, "result": result})
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.code)

    async def _read_params(self, request: web.Request) -> Params:
        values: JSON = dict(request.query)
        files: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                values.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = Upload(value.file.read(), value.filename, value.content_type)
                    elif isinstance(value, (bytes, bytearray)):
                        values[key] = bytes(value).decode("utf-8")
                    else:
                        values[key] = value
        return Params(values, files)

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._reply(error=ApiError(401, "Unauthorized"))
        method_name = request.match_info["method"]
        handler = getattr(self, f"m_{method_name.lower()}", None)
        if handler is None:
            return self._reply(error=ApiError(404, "Not Found"))
        call: JSON = {"seq": next(self._seq), "method": method_name, "time": time.time()}
        self.calls.append(call)
        try:
            params = await self._read_params(request)
            call["params"] = params.public()
            self._check_throttle(method_name)
            result = await handler(params)
        except ApiError as exc:
            call.update(ok=False, error_code=exc.code, description=exc.description)
            return self._reply(error=exc)
        except web.HTTPRequestEntityTooLarge:
            call.update(ok=False, error_code=413, description="Request Entity Too Large")
            return self._reply(error=ApiError(413, "Request Entity Too Large"))
        call["ok"] = True
        return self._reply(result)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._reply(error=ApiError(401, "Unauthorized"))
        stored = self.file_paths.get(request.match_info["path"])
        if stored is None:
            return self._reply(error=ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    # ------------------------------------------------------------ Bot API

    async def m_getme(self, p: Params) -> JSON:
        return {**self.bot_user, "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    async def m_logout(self, p: Params) -> bool:
        return True

    async def m_close(self, p: Params) -> bool:
        return True

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

    async def _deliver_webhooks(self) -> None:
        """Post pending updates one at a time, in order, retrying each until the bot takes it."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        backoff = 0.1
        while self.webhook is not None and not self._closing:
            pending = self._pending()
            if not pending:
                await self._wait_for(lambda: bool(self._pending()) or self.webhook is None, 30)
                continue
            update = pending[0]
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
                        backoff = 0.1
                        self._changed()
                        continue
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                error = f"Connection error: {exc.__class__.__name__}: {exc}"
            self.webhook_error = (self._now(), error)
            log.debug("webhook delivery failed: %s", error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def m_sendmessage(self, p: Params) -> JSON:
        chat = self._writable_chat(p)
        thread = self._thread(chat, p)
        text, entities = self._text_and_entities(p, "text", MAX_TEXT, "message text is empty",
                                                 "message is too long")
        markup = self._reply_markup(p)
        return self._sent(chat, "text", "sendMessage", p, thread, markup, text=text, entities=entities)

    async def _send_media(self, p: Params, kind: str, method: str) -> JSON:
        chat = self._writable_chat(p)
        thread = self._thread(chat, p)
        caption, caption_entities = self._text_and_entities(p, "caption", MAX_CAPTION, None,
                                                            "message caption is too long")
        markup = self._reply_markup(p)
        existing, upload = self._file_param(p, kind, kind)
        content: JSON = {"caption": caption, "caption_entities": caption_entities}
        if kind == "photo":
            if existing is not None:
                sizes = [s for s in self._all_photo_sizes() if s["file_id"] == existing.file_id]
                content["photo"] = sizes or [self._size_of(existing)]
            else:
                assert upload is not None
                if len(upload.data) > MAX_PHOTO_UPLOAD:
                    raise bad_request("PHOTO_INVALID_DIMENSIONS")
                content["photo"] = self._photo_sizes(upload.data)
        else:
            if existing is None:
                assert upload is not None
                if kind == "voice":
                    mime = "audio/ogg"
                else:
                    mime = (upload.content_type if upload.content_type not in (None, "application/octet-stream")
                            else None) or mimetypes.guess_type(upload.filename or "")[0] or "application/octet-stream"
                existing = self.store_file(upload.data, kind, mime_type=mime, file_name=upload.filename)
            media: JSON = {"file_id": existing.file_id, "file_unique_id": existing.file_unique_id,
                           "file_size": len(existing.data)}
            if kind == "document":
                if existing.file_name:
                    media["file_name"] = existing.file_name
                media["mime_type"] = existing.mime_type
            elif kind == "voice":
                media["duration"] = p.integer("duration", 1) or 1
                media["mime_type"] = "audio/ogg"
            content[kind] = media
        return self._sent(chat, kind, method, p, thread, markup, **content)

    def _all_photo_sizes(self) -> list[JSON]:
        sizes: list[JSON] = []
        for chat in self.chats.values():
            for msg in chat.messages.values():
                sizes.extend(msg.get("photo", []))
        return sizes

    def _size_of(self, stored: StoredFile) -> JSON:
        width, height = image_size(stored.data) or (1, 1)
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "width": width, "height": height}

    async def m_sendphoto(self, p: Params) -> JSON:
        return await self._send_media(p, "photo", "sendPhoto")

    async def m_senddocument(self, p: Params) -> JSON:
        return await self._send_media(p, "document", "sendDocument")

    async def m_sendvoice(self, p: Params) -> JSON:
        return await self._send_media(p, "voice", "sendVoice")

    async def m_sendlocation(self, p: Params) -> JSON:
        chat = self._writable_chat(p)
        thread = self._thread(chat, p)
        lat, lon = p.number("latitude"), p.number("longitude")
        if lat is None or lon is None or not -90 <= lat <= 90 or not -180 <= lon <= 180:
            raise bad_request("wrong coordinates")
        return self._sent(chat, "location", "sendLocation", p, thread, self._reply_markup(p),
                          location={"latitude": lat, "longitude": lon})

    async def m_sendchataction(self, p: Params) -> bool:
        chat = self._writable_chat(p)
        action = p.string("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._record(chat, "chat_action", action=action, message_thread_id=self._thread(chat, p),
                     method="sendChatAction")
        return True

    async def m_answercallbackquery(self, p: Params) -> bool:
        query_id = p.string("callback_query_id")
        query = self.callback_queries.get(query_id or "")
        if query is None or query["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.string("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self._record(self.chats[query["chat_id"]], "callback_answer", callback_query_id=query_id,
                     message_id=query["message_id"], text=text, show_alert=p.flag("show_alert"),
                     url=p.string("url"), cache_time=p.integer("cache_time", 0), user_id=query["user_id"],
                     method="answerCallbackQuery")
        return True

    async def m_editmessagetext(self, p: Params) -> JSON:
        chat, msg = self._editable(p)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text_and_entities(p, "text", MAX_TEXT, "message text is empty",
                                                 "message is too long")
        return self._finish_edit(chat, msg, "text", {"text": text, "entities": entities}, self._reply_markup(p))

    async def m_editmessagecaption(self, p: Params) -> JSON:
        chat, msg = self._editable(p)
        if "text" in msg:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._text_and_entities(p, "caption", MAX_CAPTION, None,
                                                    "message caption is too long")
        return self._finish_edit(chat, msg, "caption", {"caption": caption, "caption_entities": entities},
                                 self._reply_markup(p))

    async def m_editmessagereplymarkup(self, p: Params) -> JSON:
        chat, msg = self._editable(p)
        return self._finish_edit(chat, msg, "reply_markup", {}, self._reply_markup(p))

    async def _delete(self, chat: Chat, message_id: int) -> None:
        msg = chat.messages.get(message_id)
        if msg is None or msg.get("_deleted"):
            raise bad_request("message to delete not found")
        bot_status = chat.members.get(self.bot_user["id"])
        if not msg.get("_from_bot") and chat.type != "private" and bot_status not in ("administrator", "creator"):
            raise bad_request("message can't be deleted")
        msg["_deleted"] = True
        if chat.reply_keyboard and chat.reply_keyboard.get("message_id") == message_id:
            chat.reply_keyboard = None
        self._record(chat, "delete", message_id=message_id, method="deleteMessage",
                     message_thread_id=msg.get("message_thread_id"))

    async def m_deletemessage(self, p: Params) -> bool:
        chat = self._resolve_chat(p)
        await self._delete(chat, p.integer("message_id") or 0)
        return True

    async def m_deletemessages(self, p: Params) -> bool:
        chat = self._resolve_chat(p)
        for message_id in p.json("message_ids") or []:
            try:
                await self._delete(chat, int(message_id))
            except ApiError:
                pass  # deleteMessages skips messages that can't be deleted
        return True

    async def m_getfile(self, p: Params) -> JSON:
        stored = self.files.get(p.string("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        if stored.file_path is None:
            folder = {"photo": "photos", "document": "documents", "voice": "voice", "sticker": "stickers",
                      "audio": "music", "video": "videos", "video_note": "video_notes",
                      "animation": "animations"}.get(stored.kind, stored.kind)
            ext = ""
            if stored.file_name and "." in stored.file_name:
                ext = stored.file_name.rsplit(".", 1)[1]
            else:
                ext = {"photo": "jpg", "voice": "oga", "sticker": "webp", "audio": "mp3", "video": "mp4",
                       "video_note": "mp4", "animation": "mp4"}.get(stored.kind, "")
            stored.file_path = f"{folder}/file_{len(self.file_paths)}{'.' + ext if ext else ''}"
            self.file_paths[stored.file_path] = stored
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    def _forum(self, p: Params) -> Chat:
        chat = self._resolve_chat(p)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if chat.members.get(self.bot_user["id"]) not in ("administrator", "creator"):
            raise bad_request("not enough rights to manage topics")
        return chat

    def _topic(self, chat: Chat, p: Params) -> JSON:
        topic = chat.topics.get(p.integer("message_thread_id") or 0)
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    async def m_createforumtopic(self, p: Params) -> JSON:
        chat = self._forum(p)
        name = p.string("name") or ""
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        color = p.integer("icon_color", 7322096) or 7322096
        if color not in FORUM_ICON_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        topic = self._create_topic(chat, self.bot_user, name, color)
        if p.has("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = p.string("icon_custom_emoji_id")
        self._record(chat, "topic_created", message_thread_id=topic["message_thread_id"], name=name,
                     icon_color=color, method="createForumTopic")
        return topic

    async def m_editforumtopic(self, p: Params) -> bool:
        chat = self._forum(p)
        topic = self._topic(chat, p)
        name = p.string("name")
        if name is not None and not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        if name is None or name == topic["name"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["name"] = name
        self._record(chat, "topic_edited", message_thread_id=topic["message_thread_id"], name=name,
                     method="editForumTopic")
        return True

    async def _set_topic_closed(self, p: Params, closed: bool) -> bool:
        chat = self._forum(p)
        topic = self._topic(chat, p)
        if topic["closed"] == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        self._record(chat, "topic_closed" if closed else "topic_reopened",
                     message_thread_id=topic["message_thread_id"], name=topic["name"],
                     method="closeForumTopic" if closed else "reopenForumTopic")
        return True

    async def m_closeforumtopic(self, p: Params) -> bool:
        return await self._set_topic_closed(p, True)

    async def m_reopenforumtopic(self, p: Params) -> bool:
        return await self._set_topic_closed(p, False)

    async def m_deleteforumtopic(self, p: Params) -> bool:
        chat = self._forum(p)
        topic = self._topic(chat, p)
        del chat.topics[topic["message_thread_id"]]
        self._record(chat, "topic_deleted", message_thread_id=topic["message_thread_id"], name=topic["name"],
                     method="deleteForumTopic")
        return True

    @staticmethod
    def _commands_key(p: Params) -> str:
        scope = p.json("scope") or {"type": "default"}
        return json.dumps([scope, p.string("language_code") or ""], sort_keys=True)

    async def m_setmycommands(self, p: Params) -> bool:
        commands = p.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def m_deletemycommands(self, p: Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def m_getmycommands(self, p: Params) -> list[JSON]:
        return self.commands.get(self._commands_key(p), [])

    async def m_getchat(self, p: Params) -> JSON:
        chat = self._resolve_chat(p)
        info = {**chat.public(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}
        if chat.type != "private":
            info["permissions"] = {k: True for k in RESTRICTED_RIGHTS}
        return info

    def _member(self, chat: Chat, user_id: int) -> JSON:
        if user_id == self.bot_user["id"]:
            user = self.bot_user
        elif user_id in self.users:
            user = self.users[user_id]
        else:
            raise bad_request("user not found")
        if chat.type == "private":
            status = "member" if user_id in (chat.id, self.bot_user["id"]) else "left"
        else:
            status = chat.members.get(user_id, "left")
        member: JSON = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update({k: k not in ("is_anonymous", "can_be_edited") for k in ADMIN_RIGHTS})
        elif status == "restricted":
            member.update({k: False for k in RESTRICTED_RIGHTS})
            member.update(is_member=True, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def m_getchatmember(self, p: Params) -> JSON:
        chat = self._resolve_chat(p)
        return self._member(chat, p.integer("user_id") or 0)

    async def m_getchatadministrators(self, p: Params) -> list[JSON]:
        chat = self._resolve_chat(p)
        return [self._member(chat, uid) for uid, status in chat.members.items()
                if status in ("creator", "administrator")]

    async def m_getchatmembercount(self, p: Params) -> int:
        chat = self._resolve_chat(p)
        if chat.type == "private":
            return 2
        return sum(1 for s in chat.members.values() if s not in ("left", "kicked"))

    def _source_message(self, p: Params) -> JSON:
        source_chat = self._resolve_chat(p, "from_chat_id")
        msg = source_chat.messages.get(p.integer("message_id") or 0)
        if msg is None or msg.get("_deleted"):
            raise bad_request("message to copy not found")
        if "forum_topic_created" in msg:
            raise bad_request("message can't be copied")
        return msg

    async def m_copymessage(self, p: Params) -> JSON:
        source = self._source_message(p)
        chat = self._writable_chat(p)
        thread = self._thread(chat, p)
        content: JSON = {k: source[k] for k in ("text", "entities", "photo", "document", "voice", "sticker",
                                          "location", "contact", "caption", "caption_entities", "audio", "video",
                                          "video_note", "animation", "dice", "poll") if k in source}
        if p.has("caption") and "text" not in source:
            caption, entities = self._text_and_entities(p, "caption", MAX_CAPTION, None,
                                                        "message caption is too long")
            content.update(caption=caption, caption_entities=entities)
        markup = self._reply_markup(p)
        msg = self._sent(chat, self._content_kind(source), "copyMessage", p, thread, markup, **content)
        chat.outputs[-1]["copied_from"] = {"chat_id": source["chat"]["id"], "message_id": source["message_id"]}
        return {"message_id": msg["message_id"]}

    async def m_forwardmessage(self, p: Params) -> JSON:
        source = self._source_message(p)
        chat = self._writable_chat(p)
        thread = self._thread(chat, p)
        content: JSON = {k: source[k] for k in ("text", "entities", "photo", "document", "voice", "sticker",
                                          "location", "contact", "caption", "caption_entities", "audio", "video",
                                          "video_note", "animation", "dice", "poll") if k in source}
        sender = source.get("from") or {}
        content["forward_origin"] = {"type": "user", "sender_user": sender, "date": source["date"]}
        msg = self._sent(chat, self._content_kind(source), "forwardMessage", p, thread, None, **content)
        chat.outputs[-1]["forwarded_from"] = {"chat_id": source["chat"]["id"],
                                              "message_id": source["message_id"]}
        return msg

    # ------------------------------------------------------------ control API

    @staticmethod
    async def _body(request: web.Request) -> JSON:
        if not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("control API expects a JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("control API expects a JSON object")
        return body

    @_control
    async def _c_info(self, request: web.Request) -> JSON:
        return {"token": self.token, "bot": self.bot_user, "webhook": self.webhook,
                "pending_updates": len(self._pending()), "privacy_mode": self.privacy_mode}

    @_control
    async def _c_reset(self, request: web.Request) -> bool:
        self.reset()
        return True

    @_control
    async def _c_user(self, request: web.Request) -> JSON:
        b = await self._body(request)
        user = self.add_user(int(b["id"]), b.get("first_name") or "Test", last_name=b.get("last_name"),
                             username=b.get("username"), language_code=b.get("language_code", "it"),
                             is_premium=bool(b.get("is_premium")))
        if b.get("phone_number"):
            user["_phone"] = b["phone_number"]
        return {k: v for k, v in user.items() if not k.startswith("_")}

    @_control
    async def _c_chat(self, request: web.Request) -> JSON:
        b = await self._body(request)
        chat = self.add_chat(int(b["id"]), b.get("title") or "Group", type=b.get("type", "supergroup"),
                             is_forum=bool(b.get("is_forum")), username=b.get("username"),
                             bot_status=b.get("bot_status", "administrator"))
        for member in b.get("members", []):
            self.set_member(chat.id, int(member["user_id"]), member.get("status", "member"))
        return chat.public()

    @_control
    async def _c_member(self, request: web.Request) -> JSON:
        b = await self._body(request)
        chat_id = int(request.match_info["chat_id"])
        self.set_member(chat_id, int(b["user_id"]), b.get("status", "member"))
        return self._member(self._chat(chat_id), int(b["user_id"]))

    @_control
    async def _c_topic(self, request: web.Request) -> JSON:
        b = await self._body(request)
        return self.create_topic_as_user(int(request.match_info["chat_id"]), int(b["user_id"]), b["name"],
                                         int(b.get("icon_color", 7322096)))

    @_control
    async def _c_topics(self, request: web.Request) -> list[JSON]:
        return list(self._chat(int(request.match_info["chat_id"])).topics.values())

    @_control
    async def _c_outputs(self, request: web.Request) -> JSON:
        chat = self._chat(int(request.match_info["chat_id"]))
        q = request.query
        after = int(q.get("after", 0))
        wait = min(float(q.get("wait", 0)), 120.0)
        min_count = int(q.get("min_count", 1))
        kinds = set(q["kinds"].split(",")) if q.get("kinds") else None
        thread = int(q["thread_id"]) if q.get("thread_id") else None

        def selected() -> list[JSON]:
            return [o for o in chat.outputs if o["seq"] > after
                    and (kinds is None or o["kind"] in kinds)
                    and (thread is None or o.get("message_thread_id") == thread)]

        await self._wait_for(lambda: len(selected()) >= min_count, wait)
        return {"outputs": selected(), "last_seq": chat.outputs[-1]["seq"] if chat.outputs else 0}

    @_control
    async def _c_messages(self, request: web.Request) -> list[JSON]:
        chat = self._chat(int(request.match_info["chat_id"]))
        return [{**self.public_message(m), "deleted": bool(m.get("_deleted")),
                 "from_bot": bool(m.get("_from_bot"))} for m in chat.messages.values()]

    @_control
    async def _c_keyboard(self, request: web.Request) -> JSON | None:
        return self._chat(int(request.match_info["chat_id"])).reply_keyboard

    @_control
    async def _c_send(self, request: web.Request) -> JSON:
        b = await self._body(request)
        user_id = int(b["user_id"])
        kind = b.get("type", "text")
        content: JSON
        if kind == "text":
            text = str(b.get("text", ""))
            if utf16_len(text) > MAX_TEXT:
                raise bad_request("message is too long")
            content = {"text": text}
        elif kind == "photo":
            data = base64.b64decode(b["data"])
            content = {"photo": self._photo_sizes(data)}
        elif kind in ("document", "voice"):
            data = base64.b64decode(b["data"])
            mime = b.get("mime_type") or ("audio/ogg" if kind == "voice" else
                                          mimetypes.guess_type(b.get("file_name") or "")[0]
                                          or "application/octet-stream")
            stored = self.store_file(data, kind, mime_type=mime, file_name=b.get("file_name"))
            media: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                           "file_size": len(data), "mime_type": mime}
            if kind == "document":
                media["file_name"] = b.get("file_name") or "file"
            else:
                media["duration"] = int(b.get("duration", 1))
            content = {kind: media}
        elif kind == "location":
            content = {"location": {"latitude": float(b["latitude"]), "longitude": float(b["longitude"])}}
        elif kind == "contact":
            user = self.users.get(user_id) or {}
            contact: JSON = {"phone_number": str(b["phone_number"]),
                             "first_name": b.get("first_name") or user.get("first_name", "Test")}
            # A shared own contact carries the sender's user_id; someone else's may not.
            contact_user = b.get("contact_user_id", user_id)
            if contact_user is not None:
                contact["user_id"] = int(contact_user)
            content = {"contact": contact}
        elif kind == "sticker":
            data = base64.b64decode(b["data"]) if b.get("data") else b"RIFF\x00\x00\x00\x00WEBP"
            stored = self.store_file(data, "sticker", mime_type="image/webp")
            content = {"sticker": {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                                   "type": "regular", "width": 512, "height": 512, "is_animated": False,
                                   "is_video": False, "emoji": b.get("emoji", "👍"), "file_size": len(data)}}
        elif kind in ("audio", "video", "video_note", "animation"):
            content = self._media_content(kind, b)
        elif kind == "dice":
            emoji = str(b.get("emoji", "🎲"))
            faces = {"🎲": 6, "🎯": 6, "🎳": 6, "🏀": 5, "⚽": 5, "🎰": 64}
            if emoji not in faces:
                raise bad_request("invalid dice emoji")
            value = int(b.get("value") or 1 + secrets.randbelow(faces[emoji]))
            content = {"dice": {"emoji": emoji, "value": value}}
        elif kind == "poll":
            options = [str(o) for o in b.get("options") or []]
            if not 2 <= len(options) <= 10:
                raise bad_request("poll must have 2-10 options")
            content = {"poll": {
                "id": str(secrets.randbits(63)), "question": str(b.get("question") or "?"),
                "options": [{"persistent_id": str(n), "text": o, "voter_count": 0} for n, o in enumerate(options)],
                "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
                "allows_multiple_answers": False, "allows_revoting": True, "members_only": False,
            }}
        else:
            raise bad_request(f"unknown message type {kind}")
        if b.get("caption") and kind in ("photo", "document", "voice", "audio", "video", "animation"):
            content["caption"] = str(b["caption"])
        chat_id = int(b["chat_id"]) if b.get("chat_id") is not None else None
        thread_id = int(b["thread_id"]) if b.get("thread_id") is not None else None
        reply_to = int(b["reply_to"]) if b.get("reply_to") is not None else None
        before = self._last_update_id
        msg = self.user_message(user_id, chat_id, thread_id=thread_id, reply_to=reply_to, **content)
        # No update when privacy mode hides the message from the bot.
        update_id = self._last_update_id if self._last_update_id != before else None
        return {"message": msg, "update_id": update_id}

    def _media_content(self, kind: str, b: JSON) -> JSON:
        """An audio, video, video note or GIF a user sends, shaped as the Bot API shapes it."""
        data = base64.b64decode(b["data"]) if b.get("data") else b"\x00\x00\x00\x18ftypmp42"
        default_mime = {"audio": "audio/mpeg", "video": "video/mp4", "video_note": "video/mp4",
                        "animation": "video/mp4"}[kind]
        mime = str(b.get("mime_type") or default_mime)
        stored = self.store_file(data, kind, mime_type=mime, file_name=b.get("file_name"))
        media: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                       "duration": int(b.get("duration", 1)), "file_size": len(data)}
        if kind == "video_note":
            # Round videos: one side, no name, no MIME type.
            media["length"] = int(b.get("length", 240))
            return {"video_note": media}
        if kind == "audio":
            media.update({k: str(b[k]) for k in ("title", "performer") if b.get(k)})
        else:
            media.update(width=int(b.get("width", 320)), height=int(b.get("height", 240)))
        media["mime_type"] = mime
        if b.get("file_name") or kind == "animation":
            media["file_name"] = str(b.get("file_name") or "animation.mp4")
        content: JSON = {kind: media}
        if kind == "animation":
            # For backward compatibility the Bot API also sets `document` on an animation.
            content["document"] = {k: media[k] for k in ("file_id", "file_unique_id", "file_name", "mime_type",
                                                         "file_size")}
        return content

    @_control
    async def _c_press(self, request: web.Request) -> JSON:
        b = await self._body(request)
        return self.press(int(b["user_id"]), int(b["chat_id"]) if b.get("chat_id") is not None else None,
                          button=b.get("button"), data=b.get("data"),
                          message_id=int(b["message_id"]) if b.get("message_id") is not None else None,
                          keyboard_only=bool(b.get("keyboard_only")))

    @_control
    async def _c_raw_update(self, request: web.Request) -> JSON:
        b = await self._body(request)
        update = dict(b["update"])
        update.pop("update_id", None)
        if len(update) != 1:
            raise bad_request("an update carries exactly one payload")
        (kind, payload), = update.items()
        return self.push_update(kind, payload)

    @_control
    async def _c_pending(self, request: web.Request) -> JSON:
        # wait=N blocks until the bot has fetched (confirmed) every pending update.
        wait = min(float(request.query.get("wait", 0)), 120.0)
        await self._wait_for(lambda: not self._pending(), wait)
        return {"pending": self._pending()}

    @_control
    async def _c_throttle(self, request: web.Request) -> bool:
        b = await self._body(request)
        self.throttle(int(b["count"]), int(b.get("retry_after", 1)), b.get("methods"))
        return True

    @_control
    async def _c_block(self, request: web.Request) -> bool:
        b = await self._body(request)
        user_id = int(b["user_id"])
        if b.get("blocked", True):
            self.blocked.add(user_id)
        else:
            self.blocked.discard(user_id)
        return True

    async def _c_file(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return self._reply(error=ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    @_control
    async def _c_calls(self, request: web.Request) -> list[JSON]:
        after = int(request.query.get("after", 0))
        method = request.query.get("method")
        return [c for c in self.calls if c["seq"] > after and (method is None or c["method"] == method)]

    @_control
    async def _c_commands(self, request: web.Request) -> JSON:
        return {key: value for key, value in self.commands.items()}
