"""A local Telegram Bot API server and a citizen-like driver for tests."""

from .driver import BotApiDriver, BotApiTimeout, BotMessage, TelegramGroup, TelegramUser
from .runner import BotApiServerThread
from .server import FakeBotApi

__all__ = [
    "BotApiDriver", "BotApiServerThread", "BotApiTimeout", "BotMessage", "FakeBotApi",
    "TelegramGroup", "TelegramUser",
]
