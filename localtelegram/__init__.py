"""A local Telegram Bot API server, and a citizen-like driver that acts through its control API.

`make run` without a Telegram token uses it to chat in the terminal; the tests use it as Telegram.
"""

from .driver import BotApiDriver, BotApiTimeout, BotMessage
from .people import TelegramGroup, TelegramUser
from .runner import BotApiServerThread
from .server import LocalBotApi

__all__ = [
    "BotApiDriver", "BotApiServerThread", "BotApiTimeout", "BotMessage", "LocalBotApi",
    "TelegramGroup", "TelegramUser",
]
