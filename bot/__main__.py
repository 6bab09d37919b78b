"""Start the bot: `python -m bot`."""

from __future__ import annotations

import logging
import sys

from bot.app import run
from sportello.logs import configure_logging
from sportello.security import exit_if_unsafe
from sportello.settings import get_settings


def main() -> None:
    # No link token or bot token in any line (sportello/logs.py).
    configure_logging()
    # httpx logs every request URL, and Telegram URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = get_settings()
    exit_if_unsafe(settings, "bot")
    if settings.telegram_bot_token is None:
        sys.exit("TELEGRAM_BOT_TOKEN non impostato: `make run` senza token avvia la chat locale.")
    run(settings)


if __name__ == "__main__":
    main()
