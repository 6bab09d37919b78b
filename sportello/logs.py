"""Logging of every process: one format, and no secret of a link ever written down.

The public pages are opened by capability URLs (`/checkout/<token>`, `/files/<token>`,
`/receipts/<token>`, `/appointments/verify/<code>?t=<token>`): whoever reads a log line with
one could pay, download a certificate or a receipt. Such URLs turn up where nobody writes
them on purpose: aiohttp quotes the request line of a malformed request, a failed download
quotes its URL, and so does a traceback. The formatter blanks the token part of any of them,
and the bot token in Telegram's API URLs, in the message and in the traceback alike.
"""

from __future__ import annotations

import logging
import re
from typing import IO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"

_CAPABILITY_PATH = re.compile(r"(/(?:checkout|files|receipts)/)[A-Za-z0-9_.~%-]+")
_TOKEN_QUERY = re.compile(r"([?&](?:t|token)=)[A-Za-z0-9_.~%-]+")
_BOT_TOKEN = re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    """The text with the secret part of every capability URL and bot URL blanked."""
    text = _CAPABILITY_PATH.sub(rf"\g<1>{REDACTED}", text)
    text = _TOKEN_QUERY.sub(rf"\g<1>{REDACTED}", text)
    return _BOT_TOKEN.sub(rf"\g<1>{REDACTED}", text)


class RedactingFormatter(logging.Formatter):
    """A formatter that writes no link token: messages and tracebacks are redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's name
        # Cached on the record as exc_text, so other handlers get the redacted one too.
        return redact(super().formatException(ei))  # type: ignore[arg-type]


def configure_logging(level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Log to stderr (or `stream`) at `level`, through the redacting formatter only."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
