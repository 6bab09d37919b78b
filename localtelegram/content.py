"""What a message carries: text and entities, files and photo sizes, keyboards, replies, edits."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any

from .core import Core
from .formatting import EntityParseError, image_size, parse_text, utf16_len
from .model import (
    ADMIN_RIGHTS,
    JSON,
    MAX_CALLBACK_DATA,
    RESTRICTED_RIGHTS,
    Chat,
    Params,
    StoredFile,
    Upload,
    bad_request,
)


class Content(Core):
    """Building and recording messages, shared by the methods that send, edit and copy them."""

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
