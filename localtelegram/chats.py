"""Bot API methods about the bot, chats, members, forum topics and commands."""

from __future__ import annotations

import json
import re

from .model import FORUM_ICON_COLORS, JSON, RESTRICTED_RIGHTS, Chat, Params, bad_request
from .updates import Updates


class Chats(Updates):
    """getMe, chats and their members, forum topics, bot commands."""

    async def m_getme(self, p: Params) -> JSON:
        return {**self.bot_user, "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    async def m_logout(self, p: Params) -> bool:
        return True

    async def m_close(self, p: Params) -> bool:
        return True

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
