"""Modalità semplice: the big buttons always under the chat, and each citizen's choice of them.

A citizen who cannot or will not type uses the assistant by tapping. The persistent reply
keyboard below is the main menu; a tap sends its label as text, and the bot turns the exact
label into the intent payload, so a tap never goes through NLU guesswork. Compact mode drops
the keyboard and keeps only the buttons inside the messages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, ReplyKeyboardMarkup

SIMPLE = "semplice"
COMPACT = "compatta"

# Keys of context.user_data (persisted): the choice, and whether the keyboard is on screen.
MODE_KEY = "display_mode"
ON_SCREEN_KEY = "big_buttons_on_screen"

SETTINGS_LABEL = "⚙️ Impostazioni"
SETTINGS_COMMAND = "impostazioni"


@dataclass(frozen=True)
class BigButton:
    """One button of the persistent keyboard and the Rasa payload its label stands for."""

    label: str
    payload: str


# Emoji + one or two words, two per row; the way to a person gets a row of its own. The
# last row, the citizen's own things, ends with ⚙️ Impostazioni (the bot's, not an intent).
MENU_ROWS: tuple[tuple[BigButton, ...], ...] = (
    (BigButton("📄 Nuova pratica", "/practice_submit"), BigButton("🔎 Stato pratica", "/practice_status")),
    (BigButton("💶 Tributi", "/tax_check"), BigButton("📅 Prenota", "/appointment_book")),
    (BigButton("❓ Domande", "/help"), BigButton("🏠 Menu", "/main_menu")),
    (BigButton("🔔 Avvisi", "/announcements"),),
    (BigButton("🙋 Parla con una persona", "/human_handoff"),),
    (BigButton("🔒 Dati personali", "/privacy_request"),),
)
BIG_BUTTONS: tuple[BigButton, ...] = tuple(button for row in MENU_ROWS for button in row)
KEYBOARD_LABELS: tuple[str, ...] = (*(b.label for b in BIG_BUTTONS), SETTINGS_LABEL)

# The main menu of the domain (utter_greet, utter_main_menu, …) offers these: a message whose
# buttons are exactly the main menu is shown, in simple mode, as the big keyboard instead.
MAIN_MENU_PAYLOADS = frozenset(
    {
        "/practice_submit",
        "/practice_status",
        "/tax_check",
        "/appointment_book",
        "/help",
        "/privacy_request",
        "/human_handoff",
    }
)
_KEYBOARD_PAYLOADS = frozenset(b.payload for b in BIG_BUTTONS)


def normalise(text: str) -> str:
    """Fold what a phone may change in a label: emoji variation selectors, case, spaces."""
    folded = unicodedata.normalize("NFC", text).replace("\ufe0f", "").replace("\ufe0e", "")
    return " ".join(folded.split()).casefold()


_PAYLOAD_OF_LABEL = {normalise(b.label): b.payload for b in BIG_BUTTONS}
_SETTINGS_WORDS = {normalise(SETTINGS_LABEL), normalise(f"/{SETTINGS_COMMAND}"), SETTINGS_COMMAND}


def payload_of_label(text: str) -> str | None:
    """The intent payload of a big button's exact label, or None for anything typed."""
    return _PAYLOAD_OF_LABEL.get(normalise(text))


def asks_for_settings(text: str) -> bool:
    return normalise(text) in _SETTINGS_WORDS


def _without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


_MODE_WORDS = re.compile(r"\bmodalita\s+(semplice|compatta)\b")


def requested_mode(text: str) -> str | None:
    """ "modalità compatta", "passa alla modalità semplice"…: the mode a short message asks for."""
    plain = _without_accents(normalise(text))
    if len(plain.split()) > 6:
        return None
    found = _MODE_WORDS.search(plain)
    return found.group(1) if found else None


def big_keyboard() -> ReplyKeyboardMarkup:
    """The main menu as a keyboard that stays under the chat until it is removed."""
    rows: list[list[str]] = [[b.label for b in row] for row in MENU_ROWS]
    rows[-1].append(SETTINGS_LABEL)
    return ReplyKeyboardMarkup(
        rows,
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder="Tocca un pulsante qui sotto",
    )


def is_main_menu(buttons: Iterable[dict[str, Any]]) -> bool:
    """Whether an answer's buttons are the main menu (and nothing the keyboard lacks)."""
    payloads = {str(b.get("payload")) for b in buttons if b.get("payload")}
    return MAIN_MENU_PAYLOADS <= payloads <= _KEYBOARD_PAYLOADS


# Emoji-only messages. A thumbs-up and its friends mean "ok, thanks"; anything else gets the menu.
_THANKS_EMOJI = frozenset("👍👌🙏👏✅✔❤💙💚🧡💛😊🙂☺🤝💐🌹😘🥰")
_NO_EMOJI = frozenset("👎")
_JOINERS = frozenset("\u200d\ufe0f\ufe0e\u20e3")


def is_emoji_only(text: str) -> bool:
    """True for "👍", "😀😀", "🙏🏻": pictures and nothing to read."""
    seen = False
    for char in text:
        if char.isspace() or char in _JOINERS or 0x1F3FB <= ord(char) <= 0x1F3FF:
            continue  # spaces, joiners, keycaps and skin tones go with an emoji
        if unicodedata.category(char) != "So":
            return False
        seen = True
    return seen


def emoji_payload(text: str) -> str:
    """What an emoji-only message stands for: thanks for 👍 and friends, the menu otherwise."""
    chars = set(text)
    if chars & _THANKS_EMOJI and not chars & _NO_EMOJI:
        return "/thank"
    return "/main_menu"


@dataclass
class Display:
    """How one citizen sees buttons, kept in context.user_data (simple mode unless chosen)."""

    simple: bool = True
    keyboard_on_screen: bool = False

    @classmethod
    def of(cls, user_data: MutableMapping[Any, Any] | None) -> Display:
        data = user_data if user_data is not None else {}
        return cls(
            simple=data.get(MODE_KEY, SIMPLE) != COMPACT,
            keyboard_on_screen=bool(data.get(ON_SCREEN_KEY, False)),
        )

    @property
    def mode(self) -> str:
        return SIMPLE if self.simple else COMPACT

    def save(self, user_data: MutableMapping[Any, Any] | None) -> None:
        if user_data is None:
            return
        user_data[MODE_KEY] = self.mode
        user_data[ON_SCREEN_KEY] = self.keyboard_on_screen


@dataclass(frozen=True)
class DisplayChoice:
    """An inline button that switches to simple or compact mode."""

    mode: str


def back_to_big_buttons() -> InlineKeyboardButton:
    """In compact mode the menu keeps one way back to the big buttons, so no one must type."""
    return InlineKeyboardButton("🔠 Pulsanti grandi", callback_data=DisplayChoice(SIMPLE))
