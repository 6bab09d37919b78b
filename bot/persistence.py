"""The bot's state shared by every replica, through its database (bot/state_store.py).

- Buttons: PTB keeps each inline button's meaning in its callback-data cache and gives
  Telegram only a key. Here the cache also writes every new keyboard to the database *before*
  the message that shows it leaves (write-through), and a key this replica does not know (the
  keyboard was shown by another replica, or before a restart) is looked up there before any
  handler runs.
- Display mode (user_data): read from the database when a citizen's update begins, written
  back as soon as it is handled (and every second anyway), through PTB's BasePersistence.

Nothing else is kept: no bot_data, chat_data or conversation states.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from cachetools import LRUCache
from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import (
    BasePersistence,
    BaseRateLimiter,
    CallbackDataCache,
    ContextTypes,
    ExtBot,
    InvalidCallbackData,
    PersistenceInput,
)
from telegram.ext._callbackdatacache import _KeyboardData
from telegram.request import BaseRequest

from bot.state_store import BotStateStore

logger = logging.getLogger(__name__)

_UUID = 32  # a keyboard's key: the first 32 characters of each of its buttons' data


class SharedKeyboards(CallbackDataCache):
    """PTB's cache of button meanings, backed by the database shared by the replicas."""

    def __init__(self, bot: ExtBot[Any], maxsize: int, store: BotStateStore) -> None:
        super().__init__(bot, maxsize=maxsize)
        self.store = store
        self.unsaved: list[_KeyboardData] = []

    def process_keyboard(self, reply_markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
        replaced = super().process_keyboard(reply_markup)
        if replaced is not reply_markup:
            key = next(
                str(button.callback_data)[:_UUID]
                for row in replaced.inline_keyboard
                for button in row
                if isinstance(button.callback_data, str)
            )
            self.unsaved.append(self._keyboard_data[key])
        return replaced

    async def save(self) -> None:
        """Write the keyboards made since the last call (before Telegram is sent them)."""
        pending, self.unsaved = self.unsaved, []
        try:
            await self.store.save_keyboards(k.to_tuple() for k in pending)
        except BaseException:
            # Tried again before the next call to Telegram; no more than the cache holds.
            self.unsaved = (pending + self.unsaved)[-self.maxsize :]
            raise

    async def resolve(self, query: CallbackQuery) -> None:
        """Give the pressed button its meaning, from the database when this replica never saw it."""
        data = query.data
        if isinstance(data, InvalidCallbackData):
            raw = data.callback_data
            if not isinstance(raw, str) or len(raw) <= _UUID:
                return
            key, button = self.extract_uuids(raw)
            buttons = await self.store.keyboard(key)
            if buttons is None or button not in buttons:
                return  # gone for good: the stale-button handler offers a fresh menu
            self._keyboard_data[key] = _KeyboardData(key, time.time(), buttons)
            with query._unfrozen():
                query.data = buttons[button]  # type: ignore[assignment]
            self._callback_queries[query.id] = key
        elif (key := self._callback_queries.get(query.id)) is None:
            return
        await self.store.touch(key)


class SharedStateBot(ExtBot[Any]):
    """PTB's ExtBot whose button cache is shared, and saved before each call to Telegram."""

    def __init__(
        self,
        token: str,
        *,
        store: BotStateStore,
        buttons_kept: int,
        base_url: str,
        base_file_url: str,
        request: BaseRequest,
        get_updates_request: BaseRequest,
        rate_limiter: BaseRateLimiter[Any],
    ) -> None:
        super().__init__(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=request,
            get_updates_request=get_updates_request,
            rate_limiter=rate_limiter,
            arbitrary_callback_data=buttons_kept,
        )
        with self._unfrozen():
            self._callback_data_cache = SharedKeyboards(self, buttons_kept, store)

    @property
    def keyboards(self) -> SharedKeyboards:
        assert isinstance(self._callback_data_cache, SharedKeyboards)
        return self._callback_data_cache

    async def _do_post(self, endpoint: str, data: Any, **kwargs: Any) -> Any:
        if self.keyboards.unsaved:
            # A keyboard reaches Telegram once every replica can read what it means. Without
            # the database the message still goes: its buttons work on this replica meanwhile.
            try:
                await self.keyboards.save()
            except Exception as error:  # noqa: BLE001
                logger.warning("Keyboards not shared yet: %s", type(error).__name__)
        return await super()._do_post(endpoint, data, **kwargs)


async def resolve_shared_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """First of all handlers: a button shown by another replica (or before a restart) is read
    from the database, so the handlers below see what it means."""
    if update.callback_query is None or not isinstance(context.bot, SharedStateBot):
        return
    try:
        await context.bot.keyboards.resolve(update.callback_query)
    except Exception as error:  # noqa: BLE001 - without the database the button is stale, not fatal
        logger.warning("Shared button not read: %s", type(error).__name__)


def _canonical(data: dict[Any, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """user_data in the shared database, read at each update and written right after it."""

    def __init__(self, store: BotStateStore, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.store = store
        # What the database holds for the citizens seen lately: an update that changed nothing
        # of theirs writes nothing (PTB hands over every citizen who sent an update).
        self._known: LRUCache[int, str] = LRUCache(maxsize=10_000)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        await self.store.prepare()
        return {}  # read per citizen, when their update begins (refresh_user_data)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        try:
            stored = await self.store.user_data(user_id)
        except Exception as error:  # noqa: BLE001 - keep what this replica knows
            logger.warning("User data not read: %s", type(error).__name__)
            return
        self._known[user_id] = _canonical(stored or {})
        if stored is not None:
            user_data.clear()
            user_data.update(stored)

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        canonical = _canonical(data)
        if self._known.get(user_id) == canonical:
            return
        if not data:
            # Nothing chosen is no row. PTB hands over an erased citizen again when its periodic
            # flush dropped them before their update was marked: that empty dict (recreated by
            # Application.user_data's defaultdict) must not bring a row back after an erasure.
            await self.store.drop_user_data(user_id)
        else:
            await self.store.save_user_data(user_id, data)
        self._known[user_id] = canonical

    async def drop_user_data(self, user_id: int) -> None:
        self._known.pop(user_id, None)
        await self.store.drop_user_data(user_id)

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> dict[Any, Any]:
        return {}

    async def update_conversation(self, name: str, key: Any, new_state: object | None) -> None:
        """No ConversationHandler: Rasa holds the conversations."""

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_callback_data(self, data: Any) -> None:
        """Keyboards are written through by SharedKeyboards."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def flush(self) -> None:
        await self.store.close()
