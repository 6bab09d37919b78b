"""The control API: tests and terminal clients act as users and read what the bot did."""

from __future__ import annotations

import base64
import mimetypes
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .formatting import utf16_len
from .model import JSON, MAX_TEXT, ApiError, bad_request
from .updates import Updates


def _control(handler: Callable[[Control, web.Request], Awaitable[Any]]
             ) -> Callable[[Control, web.Request], Awaitable[web.Response]]:
    async def wrapper(self: Control, request: web.Request) -> web.Response:
        try:
            result = await handler(self, request)
        except ApiError as exc:
            return self._reply(error=exc)
        except (KeyError, TypeError, ValueError) as exc:
            return self._reply(error=bad_request(f"control API: {exc.__class__.__name__}: {exc}"))
        return self._reply(result)
    return wrapper




class Control(Updates):
    """HTTP handlers of /_control/...: see LocalBotApi's docstring for the list."""

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
        if b.get("started"):
            self.chats[user["id"]].started = True
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
            location: JSON = {"latitude": float(b["latitude"]), "longitude": float(b["longitude"])}
            if b.get("live_period"):
                # A live location: the app then edits it as the phone moves (see /_control/edit).
                location["live_period"] = int(b["live_period"])
            content = {"location": location}
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
    async def _c_edit(self, request: web.Request) -> JSON:
        b = await self._body(request)
        before = self._last_update_id
        msg = self.user_edit(
            int(b["user_id"]), int(b["chat_id"]) if b.get("chat_id") is not None else None, int(b["message_id"]),
            text=str(b["text"]) if b.get("text") is not None else None,
            latitude=float(b["latitude"]) if b.get("latitude") is not None else None,
            longitude=float(b["longitude"]) if b.get("longitude") is not None else None,
        )
        update_id = self._last_update_id if self._last_update_id != before else None
        return {"message": msg, "update_id": update_id}

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
    async def _c_fail(self, request: web.Request) -> bool:
        b = await self._body(request)
        self.fail(str(b["method"]), int(b.get("count", 1)), int(b.get("error_code", 400)), b.get("description"))
        return True

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
