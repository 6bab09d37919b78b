"""Turn the assistant's answers (text, buttons, images, custom payloads) into Telegram messages."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import qrcode
import qrcode.constants
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyKeyboardMarkup

from bot import simple_mode
from bot.rasa import RasaMessage
from bot.simple_mode import Display

logger = logging.getLogger(__name__)

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024


@dataclass(frozen=True)
class ButtonChoice:
    """What a button stands for: PTB keeps it server-side and sends Telegram only a key."""

    payload: str
    title: str


def button(title: str, payload: str) -> InlineKeyboardButton:
    """A link opens the page (the pagoPA checkout); anything else goes back to the assistant."""
    if payload.startswith("https://"):
        return InlineKeyboardButton(title, url=payload)
    return InlineKeyboardButton(title, callback_data=ButtonChoice(payload, title))


def keyboard(buttons: list[dict[str, Any]]) -> InlineKeyboardMarkup | None:
    """One big button per row: easy to read and to press for everyone."""
    rows = [
        [button(str(b["title"]), str(b["payload"]))] for b in buttons if b.get("title") and b.get("payload")
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split a long text at line or word boundaries into Telegram-sized pieces."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def qr_png(payload: str) -> bytes:
    """An ISO 18004 QR code, error correction M, as PNG bytes."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


class Renderer:
    """Send one chat the answers of one assistant turn, in order."""

    def __init__(self, bot: Bot, session: aiohttp.ClientSession) -> None:
        self._bot = bot
        self._session = session

    async def _fetch(self, url: str) -> bytes:
        async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=15)) as response:
            response.raise_for_status()
            return await response.read()

    async def send_text(self, chat_id: int, text: str, buttons: list[dict[str, Any]] | None = None) -> None:
        await self._send_pieces(chat_id, text, keyboard(buttons or []))

    async def send_attachment(self, chat_id: int, attachment: dict[str, Any]) -> None:
        """An avviso's photo or PDF: by Telegram file_id, or fetched from its URL."""
        source: str | InputFile
        if attachment.get("file_id"):
            source = str(attachment["file_id"])
        else:
            name = str(attachment.get("filename") or "allegato.pdf")
            source = InputFile(await self._fetch(str(attachment["url"])), filename=name)
        if attachment.get("kind") == "photo":
            await self._bot.send_photo(chat_id, source)
        else:
            await self._bot.send_document(chat_id, source)

    async def _send_pieces(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None
    ) -> None:
        pieces = split_text(text) or [""]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            await self._bot.send_message(chat_id, piece, reply_markup=markup if last else None)

    async def render(self, chat_id: int, answers: list[RasaMessage], display: Display | None = None) -> None:
        """Send the answers; with a citizen's display, show the main menu their way.

        In simple mode the main menu becomes the big keyboard under the chat (never both it and
        the same buttons inline), and the first plain text of a chat carries the keyboard too;
        `display.keyboard_on_screen` tells the caller whether it is there now.
        """
        for answer in answers:
            await self._render_one(chat_id, answer, display)

    async def _render_one(self, chat_id: int, answer: RasaMessage, display: Display | None) -> None:
        text = answer.get("text")
        buttons = answer.get("buttons") or []
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = keyboard(buttons)
        if answer.get("image"):
            image = await self._fetch(str(answer["image"]))
            await self._bot.send_photo(chat_id, InputFile(image, filename="immagine.png"))
        custom = answer.get("custom")
        if isinstance(custom, dict):
            await self._render_custom(chat_id, custom)
        if display is not None and simple_mode.is_main_menu(buttons):
            if display.simple:
                markup = simple_mode.big_keyboard()
                display.keyboard_on_screen = True
            elif isinstance(markup, InlineKeyboardMarkup):
                rows = [*markup.inline_keyboard, [simple_mode.back_to_big_buttons()]]
                markup = InlineKeyboardMarkup(rows)
        elif (
            display is not None
            and display.simple
            and not display.keyboard_on_screen
            and markup is None
            and text
        ):
            # The first words of a chat bring the big buttons with them, with no extra message.
            markup = simple_mode.big_keyboard()
            display.keyboard_on_screen = True
        if text:
            await self._send_pieces(chat_id, str(text), markup)
        elif markup is not None:
            await self._bot.send_message(chat_id, "Scegli qui sotto:", reply_markup=markup)

    async def _render_custom(self, chat_id: int, custom: dict[str, Any]) -> None:
        caption = str(custom.get("caption") or "")[:TELEGRAM_CAPTION_LIMIT] or None
        markup = keyboard(custom.get("buttons") or [])
        if "qr" in custom:
            await self._bot.send_photo(
                chat_id,
                InputFile(qr_png(str(custom["qr"])), filename="qr.png"),
                caption=caption,
                reply_markup=markup,
            )
        elif "document_url" in custom:
            content = await self._fetch(str(custom["document_url"]))
            await self._bot.send_document(
                chat_id,
                InputFile(content, filename=str(custom.get("filename") or "documento.pdf")),
                caption=caption,
                reply_markup=markup,
            )
        elif "image_url" in custom:
            image = await self._fetch(str(custom["image_url"]))
            await self._bot.send_photo(
                chat_id, InputFile(image, filename="immagine.png"), caption=caption, reply_markup=markup
            )
        else:
            logger.warning("Unknown custom payload with keys %s", sorted(custom))
