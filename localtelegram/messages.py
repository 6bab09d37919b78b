"""Bot API methods that send, edit, delete, copy and forward messages, and getFile."""

from __future__ import annotations

import mimetypes

from .content import Content
from .model import (
    CHAT_ACTIONS,
    JSON,
    MAX_CAPTION,
    MAX_DOWNLOAD,
    MAX_PHOTO_UPLOAD,
    MAX_TEXT,
    ApiError,
    Chat,
    Params,
    bad_request,
)


class Messages(Content):
    """The bot's messages: send*, edit*, delete*, copy, forward, answerCallbackQuery, getFile."""

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
