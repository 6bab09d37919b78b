"""The handoff's callbacks: a citizen talking to a person, and the staff group answering."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import canned, simple_mode, texts
from bot.handlers import converse, services_of, telegram_metadata
from bot.handoff import CitizenAction, StaffAction, leave_keyboard

logger = logging.getLogger(__name__)


async def relay_during_handoff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """While a person handles the chat, everything the citizen sends goes to them, not to Rasa."""
    message = update.message
    chat = update.effective_chat
    if message is None or chat is None or chat.type != chat.PRIVATE:
        return
    handoffs = services_of(context).handoffs
    ticket = await handoffs.relaying_ticket(chat.id)
    if ticket is None:
        return
    if message.text and simple_mode.payload_of_label(message.text) is not None:
        # A big button means the assistant, not a message for the clerk: say how to go back.
        await context.bot.send_message(
            chat.id, texts.BIG_BUTTON_DURING_HANDOFF, reply_markup=leave_keyboard(ticket)
        )
        raise ApplicationHandlerStop
    await handoffs.relay_from_citizen(ticket, message)
    raise ApplicationHandlerStop


async def relay_staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send what staff wrote in a ticket's topic to the citizen."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or user.is_bot:
        return
    await services_of(context).handoffs.relay_from_staff(message, user)


async def close_ticket_with_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/chiudi <nota>` in a ticket's topic closes it with a note for the citizen."""
    message = update.effective_message
    if message is None or message.message_thread_id is None:
        return
    handoffs = services_of(context).handoffs
    ticket = await handoffs.by_thread(message.message_thread_id)
    if ticket is None or ticket.status == "closed":
        return
    note = " ".join(context.args or []) or None
    await handoffs.close(ticket, update.effective_user, note)


async def list_canned_replies(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/risposte` in a ticket's topic: the canned replies, numbered."""
    message = update.effective_message
    if message is None:
        return
    handoffs = services_of(context).handoffs
    thread = message.message_thread_id
    text = canned.listing(handoffs.canned) if thread is not None else texts.CANNED_OUTSIDE_TICKET
    await message.reply_text(text, message_thread_id=thread)


async def send_canned_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/risposta N` in a ticket's topic sends the N-th canned reply to the citizen."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or user.is_bot:
        return
    handoffs = services_of(context).handoffs
    thread = message.message_thread_id
    if thread is None:
        await message.reply_text(texts.CANNED_OUTSIDE_TICKET)
        return
    reply = canned.pick(handoffs.canned, " ".join(context.args or []))
    if reply is None:
        answer = texts.CANNED_UNKNOWN
    elif await handoffs.send_canned(thread, user, reply):
        answer = texts.canned_sent(reply.title)
    else:
        answer = texts.CANNED_CLOSED
    await message.reply_text(answer, message_thread_id=thread)


async def press_staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take or close a ticket: only members of the staff group, only in the staff group."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or not isinstance(query.data, StaffAction):
        return
    handoffs = services_of(context).handoffs
    chat = update.effective_chat
    allowed = False
    if handoffs.staff_chat_id is not None and chat is not None and chat.id == handoffs.staff_chat_id:
        try:
            member = await context.bot.get_chat_member(handoffs.staff_chat_id, user.id)
            allowed = member.status in ("creator", "administrator", "member")
        except (TelegramError, TypeError, ValueError):
            # Anything we cannot read as a staff membership is not one.
            allowed = False
    if not allowed:
        await query.answer("Solo il personale del Comune può usare questo pulsante.", show_alert=True)
        return
    ticket = await handoffs.get(query.data.ticket_id)
    if ticket is None or ticket.status == "closed":
        await query.answer("Questa richiesta è già chiusa.")
        return
    await query.answer()
    if query.data.action == "claim" and ticket.status == "waiting":
        await handoffs.claim(ticket, user)
    elif query.data.action == "close":
        await handoffs.close(ticket, user, None)


async def press_citizen_handoff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Back to the assistant, or a rating after the chat with staff."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not isinstance(query.data, CitizenAction):
        return
    handoffs = services_of(context).handoffs
    ticket = await handoffs.get(query.data.ticket_id)
    if ticket is None or ticket.chat_id != chat.id:
        await query.answer(texts.STALE_BUTTON_ALERT)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.edit_message_reply_markup(reply_markup=None)
    if query.data.action == "leave" and ticket.status != "closed":
        await handoffs.leave(ticket)
        await converse(update, context, "/main_menu", telegram_metadata(update, "handoff_left"))
    elif query.data.action == "rate":
        if await handoffs.rate(ticket.id, query.data.value) is not None:
            await context.bot.send_message(chat.id, "Grazie per il tuo voto!")
        await converse(update, context, "/main_menu", telegram_metadata(update, "handoff_rated"))
