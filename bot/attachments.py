"""Files, photos, locations and what the bot cannot read (voice, stickers...), each told plainly."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from backend_client import (
    BackOfficeError,
    FileTooLarge,
    NotLinked,
    UnsupportedFileType,
    UploadQuotaExceeded,
)
from bot import announcements, simple_mode, texts
from bot.handlers import LINK, MENU, PERSON, converse, say_then_show_menu, services_of, telegram_metadata
from bot.render import keyboard

logger = logging.getLogger(__name__)


# What the channel says to a message it cannot read, then Rasa shows the menu. The first
# kind a message has wins: a GIF also carries a document, a video note is not a video.
UNREADABLE = {
    "voice": texts.VOICE_NOT_SUPPORTED,
    "audio": texts.VOICE_NOT_SUPPORTED,
    "video_note": texts.VIDEO_NOTE_NOT_SUPPORTED,
    "sticker": texts.STICKER,
    "animation": texts.ANIMATION,
    "video": texts.VIDEO,
    "contact": texts.CONTACT,
    "dice": texts.DICE,
    "poll": texts.POLL,
}
# Who sent their voice wanted to talk: a person is offered right there.
OFFER_PERSON = frozenset({"voice", "audio", "video_note"})

# What Telegram lets a bot download, and what the comune accepts.
MAX_FILE_BYTES = 20 * 1024 * 1024
ACCEPTED_TYPES = {"application/pdf", "image/jpeg", "image/png"}


async def forward_attachment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store a photo or document with the back office, or pass on a location, then tell Rasa."""
    message = update.effective_message
    chat = update.effective_chat
    user = update.effective_user
    if message is None or chat is None or user is None:
        return
    if message.location:
        if await announcements.receive_location(update, context):
            return  # the zone for the avvisi
        place = {"latitude": message.location.latitude, "longitude": message.location.longitude}
        await converse(update, context, "/inform", telegram_metadata(update, "location", location=place))
        return
    if message.photo:
        file_id, size = message.photo[-1].file_id, message.photo[-1].file_size
        filename, content_type = f"foto-{message.message_id}.jpg", "image/jpeg"
    elif message.document:
        document = message.document
        file_id, size = document.file_id, document.file_size
        filename = document.file_name or f"documento-{message.message_id}"
        content_type = document.mime_type or "application/octet-stream"
    else:
        return
    if size is not None and size > MAX_FILE_BYTES:
        await context.bot.send_message(chat.id, texts.FILE_TOO_LARGE)
        return
    if content_type not in ACCEPTED_TYPES:
        await context.bot.send_message(chat.id, texts.FILE_WRONG_TYPE)
        return
    services = services_of(context)
    try:
        content = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
        upload = await services.backoffice.practices.upload(
            f"telegram:{user.id}", content, filename, content_type
        )
    except FileTooLarge:
        await context.bot.send_message(chat.id, texts.FILE_TOO_LARGE)
        return
    except UnsupportedFileType:
        # The real content is checked, not the name: a renamed file is refused here.
        await context.bot.send_message(chat.id, texts.FILE_WRONG_TYPE)
        return
    except NotLinked:
        await context.bot.send_message(
            chat.id, texts.FILE_NEEDS_LINK, reply_markup=keyboard([LINK, MENU, PERSON])
        )
        return
    except UploadQuotaExceeded as error:
        await context.bot.send_message(
            chat.id,
            texts.file_quota_reached(error.max_files, error.max_mb, error.retry_after),
            reply_markup=keyboard([MENU, PERSON]),
        )
        return
    except (BackOfficeError, TelegramError) as error:
        logger.warning("Could not store an attachment: %s", type(error).__name__)
        await context.bot.send_message(chat.id, texts.FILE_NOT_SAVED)
        return
    attachment = {
        "upload_id": upload.upload_id,
        "filename": upload.filename,
        "content_type": upload.content_type,
    }
    await converse(update, context, "/inform", telegram_metadata(update, "attachment", upload=attachment))


def unreadable_kind(message: Message) -> str:
    """What a message the assistant cannot read is: voice, sticker, contact…, or "other"."""
    return next((kind for kind in UNREADABLE if getattr(message, kind, None)), "other")


async def answer_unreadable(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a voice note, sticker, GIF, video, contact, dice or poll kindly, then show the menu."""
    message = update.effective_message
    if message is None:
        return
    kind = unreadable_kind(message)
    sticker = message.sticker
    if sticker is not None and sticker.emoji and simple_mode.emoji_payload(sticker.emoji) == "/thank":
        # A thumbs-up sticker says what a typed 👍 says.
        await converse(update, context, "/thank", telegram_metadata(update, "sticker"))
        return
    await say_then_show_menu(
        update,
        context,
        UNREADABLE.get(kind, texts.UNSUPPORTED_MESSAGE),
        kind,
        offer_person=kind in OFFER_PERSON,
    )
