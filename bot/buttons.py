"""The two buttons every answer with buttons carries: back to the menu, and to a person."""

from __future__ import annotations

MENU = {"title": "🏠 Menu", "payload": "/main_menu"}
PERSON = {"title": "🙋 Parla con una persona", "payload": "/human_handoff"}
