"""The local Bot API's vocabulary: limits, errors, stored files, chats and request parameters."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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
    # The user wrote to the bot before this server started (their history is not here).
    started: bool = False

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


def button_text(button: Any) -> str:
    return button if isinstance(button, str) else str(button.get("text", ""))
