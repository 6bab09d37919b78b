"""Hand a conversation to the comune's staff, in a forum topic of their group, and back."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_datetime
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from telegram.error import TelegramError

from backend_client import BackOfficeClient, BackOfficeError, OpeningHours
from bot import canned, texts
from bot.canned import CannedReply
from bot.handoff_store import ACTIVE, CLOSED, INTERNAL_NOTE, WAITING, HandoffStore, Ticket, TicketRecord
from bot.redact import redact
from bot.render import keyboard
from sportello.clock import ROME

logger = logging.getLogger(__name__)

STAFF_SERVICE = "protocollo"  # the URP/protocollo desk answers handed-off chats
RECENT_LINES = 10
INTERNAL_PREFIX = "//"  # a staff message starting so is a note among staff
# Today and two weeks after: the back office tells the closed days of the next 14 days, so a
# desk closed over the holidays is still found when it reopens.
LOOKAHEAD_DAYS = 15


@dataclass(frozen=True)
class StaffAction:
    """A button in the staff topic: take or close a ticket."""

    ticket_id: int
    action: str  # "claim" | "close"


@dataclass(frozen=True)
class CitizenAction:
    """A button for the citizen during a handoff: back to the assistant, or a rating."""

    ticket_id: int
    action: str  # "leave" | "rate"
    value: int = 0


def next_opening(
    hours: Sequence[OpeningHours], now: datetime, closed: Collection[date] = frozenset()
) -> tuple[bool, datetime | None]:
    """Whether the desk is open at `now` (Rome time), and when it opens next if not.

    `closed` are the days it stays shut whatever its hours say: holidays, the comune's own.
    """
    local = now.astimezone(ROME)
    for days_ahead in range(LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=days_ahead)
        if day in closed:
            continue
        for interval in sorted(hours, key=lambda h: h.opens):
            if interval.weekday != day.weekday():
                continue
            opens = datetime.combine(day, datetime.strptime(interval.opens, "%H:%M").time(), ROME)
            closes = datetime.combine(day, datetime.strptime(interval.closes, "%H:%M").time(), ROME)
            if opens <= local < closes:
                return True, None
            if local < opens:
                return False, opens
    return False, None


def staff_keyboard(ticket: Ticket) -> InlineKeyboardMarkup:
    row = []
    if ticket.status == WAITING:
        row.append(InlineKeyboardButton("✋ Prendo io", callback_data=StaffAction(ticket.id, "claim")))
    row.append(InlineKeyboardButton("✅ Chiudi", callback_data=StaffAction(ticket.id, "close")))
    return InlineKeyboardMarkup([row])


def leave_keyboard(ticket: Ticket) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("↩️ Torna all'assistente", callback_data=CitizenAction(ticket.id, "leave"))]]
    )


def rating_keyboard(ticket: Ticket) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("⭐" * n, callback_data=CitizenAction(ticket.id, "rate", n))
                for n in range(1, 4)
            ],
            [
                InlineKeyboardButton("⭐" * n, callback_data=CitizenAction(ticket.id, "rate", n))
                for n in range(4, 6)
            ],
        ]
    )


def describe_message(message: Message) -> str:
    """What a message was, for the transcript: its text, or what kind of thing it was."""
    if message.text:
        return message.text
    for kind, label in (
        ("photo", "foto"),
        ("document", "documento"),
        ("voice", "messaggio vocale"),
        ("location", "posizione"),
        ("sticker", "adesivo"),
        ("contact", "contatto"),
    ):
        if getattr(message, kind, None):
            caption = f": {message.caption}" if message.caption else ""
            return f"[{label}{caption}]"
    return "[messaggio]"


class Handoffs:
    """The relay between a citizen's private chat and a topic of the staff group."""

    def __init__(
        self,
        bot: Bot,
        store: HandoffStore,
        backoffice: BackOfficeClient,
        staff_chat_id: int | None,
        switchboard: str = texts.SWITCHBOARD,
        canned_replies: tuple[CannedReply, ...] | None = None,
    ) -> None:
        self._bot = bot
        # Read and checked now: a broken file stops the bot at start, not a clerk mid-chat.
        self.canned = canned_replies if canned_replies is not None else canned.load()
        self._store = store
        self._backoffice = backoffice
        self.staff_chat_id = staff_chat_id
        self._switchboard = switchboard  # number and hours, for when no person can be reached here
        self._recent: dict[int, deque[str]] = {}

    def remember(self, chat_id: int, author: str, text: str) -> None:
        """Keep the last lines of each chat in memory, for the staff to read at handoff; a codice
        fiscale or a link code in them is masked: the staff need the gist, not the code."""
        lines = self._recent.setdefault(chat_id, deque(maxlen=RECENT_LINES))
        lines.append(f"{author}: {redact(text)[:300]}")

    async def relaying_ticket(self, chat_id: int) -> Ticket | None:
        ticket = await self._store.open_ticket_of(chat_id)
        return ticket if ticket is not None and ticket.relaying else None

    async def _office_hours(self) -> tuple[bool, datetime | None]:
        try:
            service = await self._backoffice.appointments.service(STAFF_SERVICE)
        except BackOfficeError:
            return True, None  # unknown: better to try than to turn the citizen away
        closed = {closure.date for closure in service.closures}
        return next_opening(service.opening_hours, datetime.now(ROME), closed)

    async def start(self, chat_id: int, topic: str) -> None:
        """Open a ticket and its topic, post what the citizen was doing, tell the citizen."""
        if self.staff_chat_id is None:
            await self._bot.send_message(chat_id, texts.call_the_switchboard(self._switchboard))
            return
        existing = await self._store.open_ticket_of(chat_id)
        if existing is not None and existing.thread_id is None:
            # Left without its topic (the bot stopped while opening it): start it again.
            await self._store.close_ticket(existing.id, None)
            existing = None
        if existing is not None:
            ticket = await self._store.update(existing.id, relaying=True)
            await self._tell_waiting(ticket, again=True)
            return
        # The ticket relays nothing until its topic exists: never a message into nowhere.
        ticket = await self._store.create(chat_id, topic)
        try:
            forum_topic = await self._bot.create_forum_topic(
                self.staff_chat_id, f"#{ticket.id} – {topic}"[:128]
            )
        except TelegramError as error:
            logger.warning("Ticket %s: no staff topic: %s", ticket.id, type(error).__name__)
            await self._store.close_ticket(ticket.id, None)
            await self._bot.send_message(
                chat_id,
                texts.handoff_unavailable(self._switchboard),
                reply_markup=keyboard([{"title": "🏠 Menu", "payload": "/main_menu"}]),
            )
            return
        ticket = await self._store.update(ticket.id, thread_id=forum_topic.message_thread_id, relaying=True)
        recent = "\n".join(self._recent.get(chat_id, [])) or "(nessun messaggio recente)"
        await self._store.add_line(ticket.id, "assistente", f"Richiesta di una persona. Argomento: {topic}")
        await self._bot.send_message(
            self.staff_chat_id,
            f"Nuova richiesta #{ticket.id}\nArgomento: {redact(topic)}\nUltimi messaggi:\n{recent}\n\n"
            "Scrivete qui per rispondere al cittadino. /chiudi <nota> chiude con una nota.",
            message_thread_id=ticket.thread_id,
            reply_markup=staff_keyboard(ticket),
        )
        await self._tell_waiting(ticket)

    async def _tell_waiting(self, ticket: Ticket, again: bool = False) -> None:
        is_open, reopens = await self._office_hours()
        position = await self._store.queue_position(ticket)
        if ticket.status == ACTIVE:
            text = f"Stai già parlando con {ticket.staff_name or 'una persona'} del Comune. Scrivi pure qui."
        elif is_open:
            text = (
                f"Ti metto in contatto con una persona del Comune. Sei il numero {position} in coda. "
                "Scrivi pure qui: leggerà i tuoi messaggi."
            )
        else:
            when = format_datetime(reopens, "EEEE d MMMM 'alle' H:mm", locale="it") if reopens else "presto"
            text = (
                f"Ora gli uffici sono chiusi: riaprono {when}. La tua richiesta è il ticket #{ticket.id}, "
                f"numero {position} in coda: ti risponderemo appena possibile. Intanto puoi tornare all'assistente."
            )
        if again and ticket.status == WAITING:
            text = f"Sei ancora in coda: numero {position}. " + text.split(". ", 1)[-1]
        await self._bot.send_message(ticket.chat_id, text, reply_markup=leave_keyboard(ticket))

    async def remind_unclaimed(self, minutes: float) -> int:
        """Tell, once, each citizen nobody has answered within `minutes`; return how many."""
        tickets = await self._store.unclaimed_since(minutes)
        for ticket in tickets:
            await self._store.update(ticket.id, told_unclaimed=True)
            position = await self._store.queue_position(ticket)
            try:
                await self._bot.send_message(
                    ticket.chat_id,
                    f"Nessun operatore è libero in questo momento. La tua richiesta #{ticket.id} resta in coda "
                    f"(numero {position}): ti risponderemo appena possibile. Intanto puoi tornare all'assistente.",
                    reply_markup=leave_keyboard(ticket),
                )
            except TelegramError as error:
                logger.info("Ticket %s: citizen not told: %s", ticket.id, type(error).__name__)
        return len(tickets)

    async def watch_unclaimed(self, minutes: float) -> None:
        """Run remind_unclaimed for the life of the bot."""
        while True:
            try:
                await self.remind_unclaimed(minutes)
            except Exception as error:  # noqa: BLE001 - the watcher must outlive one failure
                logger.warning("Unclaimed-ticket check failed: %s", type(error).__name__)
            await asyncio.sleep(min(30.0, max(1.0, minutes * 30)))

    async def relay_from_citizen(self, ticket: Ticket, message: Message) -> None:
        """Copy what the citizen sent into the ticket's topic; keep it in the transcript."""
        await self._store.add_line(ticket.id, "cittadino", describe_message(message))
        if self.staff_chat_id is None or ticket.thread_id is None:
            return
        await self._bot.copy_message(
            self.staff_chat_id, ticket.chat_id, message.message_id, message_thread_id=ticket.thread_id
        )
        if ticket.status == WAITING:
            position = await self._store.queue_position(ticket)
            await self._bot.send_message(
                ticket.chat_id, f"Messaggio inoltrato. Sei il numero {position} in coda."
            )

    async def relay_from_staff(self, message: Message, staff: User) -> None:
        """Send what staff wrote in a ticket's topic to the citizen, marked as the comune's."""
        ticket = await self._store.by_thread(message.message_thread_id or 0)
        if ticket is None or ticket.status == CLOSED:
            return
        if message.text and message.text.startswith(INTERNAL_PREFIX):
            # `// …` stays among staff: kept for the office, never relayed, never exported.
            await self._store.add_line(ticket.id, INTERNAL_NOTE, message.text[len(INTERNAL_PREFIX) :].strip())
            await self._bot.send_message(
                message.chat_id, texts.INTERNAL_NOTE_KEPT, message_thread_id=message.message_thread_id
            )
            return
        if ticket.status == WAITING:
            ticket = await self.claim(ticket, staff)
        await self._store.add_line(ticket.id, "operatore", describe_message(message))
        header = f"👤 {staff.first_name}, Comune di Cerveteri:"
        if message.text:
            await self._bot.send_message(ticket.chat_id, f"{header}\n{message.text}")
        else:
            await self._bot.send_message(ticket.chat_id, header)
            await self._bot.copy_message(ticket.chat_id, message.chat_id, message.message_id)

    async def send_canned(self, thread_id: int, staff: User, reply: CannedReply) -> bool:
        """Send a canned reply to the ticket's citizen, as a staff message; False if closed."""
        ticket = await self._store.by_thread(thread_id)
        if ticket is None or ticket.status == CLOSED:
            return False
        if ticket.status == WAITING:
            ticket = await self.claim(ticket, staff)
        await self._store.add_line(ticket.id, "operatore", reply.text)
        await self._bot.send_message(ticket.chat_id, f"👤 {staff.first_name}, Comune di Cerveteri:\n{reply.text}")
        return True

    async def claim(self, ticket: Ticket, staff: User) -> Ticket:
        ticket = await self._store.claim(ticket.id, staff.first_name)
        await self._bot.send_message(
            ticket.chat_id, f"{staff.first_name} del Comune ha preso la tua richiesta e ti risponde qui."
        )
        if self.staff_chat_id is not None:
            await self._bot.send_message(
                self.staff_chat_id,
                f"Presa in carico da {staff.first_name}.",
                message_thread_id=ticket.thread_id,
                reply_markup=staff_keyboard(ticket),
            )
        return ticket

    async def close(self, ticket: Ticket, staff: User | None, note: str | None) -> None:
        """Close the ticket: the citizen goes back to the assistant and is asked for a rating."""
        ticket = await self._store.close_ticket(ticket.id, note)
        await self._store.add_line(ticket.id, "operatore", f"Chiuso{': ' + note if note else ''}")
        text = "La conversazione con il Comune è chiusa."
        if note:
            text += f"\nNota dell'operatore: {note}"
        text += "\nCome ti abbiamo aiutato? Dai un voto da 1 a 5."
        await self._bot.send_message(ticket.chat_id, text, reply_markup=rating_keyboard(ticket))
        if self.staff_chat_id is not None and ticket.thread_id is not None:
            who = staff.first_name if staff else "il cittadino"
            await self._bot.send_message(
                self.staff_chat_id,
                f"Ticket #{ticket.id} chiuso da {who}.",
                message_thread_id=ticket.thread_id,
            )
            try:
                await self._bot.close_forum_topic(self.staff_chat_id, ticket.thread_id)
            except TelegramError as error:
                logger.info("Topic of ticket %s not closed: %s", ticket.id, type(error).__name__)

    async def leave(self, ticket: Ticket) -> None:
        """The citizen goes back to the assistant; a waiting ticket stays for the staff."""
        if ticket.status == WAITING:
            await self._store.update(ticket.id, relaying=False)
            await self._bot.send_message(
                ticket.chat_id,
                f"Va bene. La tua richiesta #{ticket.id} resta in coda: quando un operatore la prende, ti scrive qui.",
            )
        else:
            await self.close(ticket, None, "Il cittadino è tornato all'assistente.")

    async def rate(self, ticket_id: int, value: int) -> Ticket | None:
        ticket = await self._store.get(ticket_id)
        if ticket is None or ticket.status != CLOSED or ticket.rating is not None or not 1 <= value <= 5:
            return None
        ticket = await self._store.update(ticket_id, rating=value)
        if self.staff_chat_id is not None and ticket.thread_id is not None:
            try:
                await self._bot.send_message(
                    self.staff_chat_id, f"Voto del cittadino: {value}/5.", message_thread_id=ticket.thread_id
                )
            except TelegramError as error:
                logger.info("Rating of ticket %s not posted: %s", ticket.id, type(error).__name__)
        return ticket

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self._store.get(ticket_id)

    async def by_thread(self, thread_id: int) -> Ticket | None:
        return await self._store.by_thread(thread_id)

    async def records_of(self, chat_id: int) -> list[TicketRecord]:
        """This chat's tickets and transcripts, for the citizen's data export."""
        return await self._store.records_of(chat_id)

    async def forget(self, chat_id: int) -> int:
        """The citizen asked to be forgotten: delete the chat's tickets, their transcripts,
        their topics in the staff group and the recent lines kept in memory; how many tickets."""
        self._recent.pop(chat_id, None)
        tickets = await self._store.forget_chat(chat_id)
        for ticket in tickets:
            if self.staff_chat_id is None or ticket.thread_id is None:
                continue
            try:
                await self._bot.delete_forum_topic(self.staff_chat_id, ticket.thread_id)
            except TelegramError as error:
                logger.warning("Topic of ticket %s not deleted: %s", ticket.id, type(error).__name__)
        return len(tickets)
