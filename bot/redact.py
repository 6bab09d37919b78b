"""Kept for the bot's imports: the masking lives in `sportello.redact`, shared with the back office."""

from __future__ import annotations

from sportello.redact import redact

__all__ = ["redact"]
