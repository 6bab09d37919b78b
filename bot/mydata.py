"""I miei dati in the chat: a copy of everything the assistant keeps about the citizen, and
forgetting it.

Rasa's actions only ask (a custom answer `{"my_data": "export"}` or `{"my_data": "erase"}`);
the bot does the work because it holds what Rasa's actions cannot reach: the conversation in
Rasa's tracker store (bot/conversations.py) and the handoff tickets (bot/handoff_store.py).
The export is a readable PDF and a JSON file. Erasing happens after Rasa has saved the turn
that confirmed it, so nothing of the conversation is left behind: the conversation and the
tickets of the chat first, then the back office (DELETE /v1/me/data), which unlinks every
chat of the citizen — their conversations and tickets go too.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, InputFile

from backend_client import BackOfficeClient, BackOfficeError, DataErasure
from bot import texts
from bot.buttons import MENU, PERSON
from bot.conversations import ConversationStore
from bot.export import CHANNEL_PREFIX, Export, export_json
from bot.export_pdf import export_pdf
from bot.handoff import Handoffs
from bot.rasa import RasaMessage
from bot.render import keyboard
from sportello.clock import PROCESS_CLOCK, ROME

logger = logging.getLogger(__name__)

MY_DATA = "my_data"
EXPORT, ERASE = "export", "erase"

DELETE = {"title": "🗑️ Cancella", "payload": "/data_delete"}


def requested(answers: list[RasaMessage]) -> tuple[str | None, list[RasaMessage]]:
    """What the turn asks the bot to do with the citizen's data, and the other answers."""
    wanted = None
    rest = []
    for answer in answers:
        custom = answer.get("custom")
        if isinstance(custom, dict) and custom.get(MY_DATA) in (EXPORT, ERASE):
            wanted = str(custom[MY_DATA])
        else:
            rest.append(answer)
    return wanted, rest


# --- the chat's side ------------------------------------------------------------------


def erased_text(erasure: DataErasure, tickets: int) -> str:
    """What the citizen reads once their data is gone: what went, what stays and why."""
    gone = ["la nostra conversazione"]
    if tickets:
        gone.append("le richieste a una persona")
    if erasure.deleted.uploads:
        gone.append("i file che non fanno parte di una pratica")
    listed = gone[0] if len(gone) == 1 else ", ".join(gone[:-1]) + " e " + gone[-1]
    lines = [f"Fatto: ho cancellato {listed}."]
    if erasure.unlinked:
        others = " (e le altre chat collegate)" if len(erasure.unlinked) > 1 else ""
        lines.append(
            f"Ho scollegato questa chat dal tuo profilo{others}: per ricollegarla ti servirà un nuovo codice dal portale."
        )
    if erasure.kept:
        lines.append("Restano al Comune, come chiede la legge:")
        lines += [f"• {kept.reason}" for kept in erasure.kept]
    return "\n".join(lines)


class PersonalData:
    """Export and erase one chat's data; every failure is told kindly, never silently."""

    def __init__(
        self,
        bot: Bot,
        backoffice: BackOfficeClient,
        conversations: ConversationStore,
        handoffs: Handoffs,
        comune: str,
        conversation_days: int,
        transcript_days: int,
    ) -> None:
        self._bot = bot
        self._backoffice = backoffice
        self._conversations = conversations
        self._handoffs = handoffs
        self._comune = comune
        self._conversation_days = conversation_days
        self._transcript_days = transcript_days

    async def collect(self, chat_id: int, user_id: int) -> Export:
        """Everything about this chat's citizen; BackOfficeError, SQLAlchemyError if a store fails."""
        data = await self._backoffice.identity.my_data(f"{CHANNEL_PREFIX}{user_id}")
        return Export(
            comune=self._comune,
            generated_at=PROCESS_CLOCK.now(),
            user_id=user_id,
            data=data,
            conversation=await self._conversations.lines(str(user_id)),
            tickets=await self._handoffs.records_of(chat_id),
            conversation_days=self._conversation_days,
            transcript_days=self._transcript_days,
        )

    async def export(self, chat_id: int, user_id: int) -> None:
        """Send the PDF and the JSON, then say what they are."""
        try:
            export = await self.collect(chat_id, user_id)
        except (BackOfficeError, SQLAlchemyError) as error:
            logger.warning("Data export failed: %s", type(error).__name__)
            await self._bot.send_message(
                chat_id, texts.MY_DATA_UNAVAILABLE, reply_markup=keyboard([MENU, PERSON])
            )
            return
        day = export.generated_at.astimezone(ROME).date()
        await self._bot.send_document(
            chat_id, InputFile(export_pdf(export), filename=_filename(day, "pdf")), caption=texts.MY_DATA_PDF
        )
        await self._bot.send_document(
            chat_id,
            InputFile(export_json(export), filename=_filename(day, "json")),
            caption=texts.MY_DATA_JSON,
        )
        await self._bot.send_message(
            chat_id, texts.MY_DATA_SENT, reply_markup=keyboard([DELETE, MENU, PERSON])
        )

    async def erase(self, chat_id: int, user_id: int) -> list[int]:
        """Forget the conversation and the tickets, then what the back office keeps; the
        Telegram users whose chats were erased (none when it failed), so that the bot drops
        what it keeps about them too (display mode)."""
        try:
            tickets = await self._forget_chat(chat_id, str(user_id))
        except SQLAlchemyError as error:
            logger.warning("Conversation not erased: %s", type(error).__name__)
            await self._bot.send_message(
                chat_id, texts.MY_DATA_NOT_ERASED, reply_markup=keyboard([MENU, PERSON])
            )
            return []
        try:
            erasure = await self._backoffice.identity.erase_my_data(f"{CHANNEL_PREFIX}{user_id}")
        except BackOfficeError as error:
            logger.warning("Back-office data not erased: %s", type(error).__name__)
            await self._bot.send_message(
                chat_id, texts.MY_DATA_HALF_ERASED, reply_markup=keyboard([DELETE, MENU, PERSON])
            )
            return []
        erased = [user_id]
        # The citizen's other chats were theirs too: their conversations go with this one.
        for other in erasure.unlinked:
            other_id = other.removeprefix(CHANNEL_PREFIX)
            if other_id != str(user_id) and other_id.lstrip("-").isdigit():
                try:
                    await self._forget_chat(int(other_id), other_id)
                except SQLAlchemyError as error:
                    logger.warning("Another chat's conversation not erased: %s", type(error).__name__)
                else:
                    erased.append(int(other_id))
        await self._bot.send_message(
            chat_id, erased_text(erasure, tickets), reply_markup=keyboard([MENU, PERSON])
        )
        return erased

    async def _forget_chat(self, chat_id: int, sender_id: str) -> int:
        """Delete the chat's conversation in Rasa's store and its tickets; how many tickets."""
        await self._conversations.forget(sender_id)
        return await self._handoffs.forget(chat_id)


def _filename(day: date, extension: str) -> str:
    return f"i-miei-dati-{day.isoformat()}.{extension}"
