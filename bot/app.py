"""Build the whole bot in one place: handlers, persistence, ordering, resources."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from pathlib import Path

import aiohttp
from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InvalidCallbackData,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from backend_client import BackOfficeClient
from bot import attachments, handlers, staff_handlers, texts
from bot.announcement_composer import Composer, ComposerAction
from bot.conversations import ConversationStore
from bot.handoff import CitizenAction, Handoffs, StaffAction
from bot.handoff_store import HandoffStore
from bot.health import start_health
from bot.jobs import every
from bot.mydata import PersonalData
from bot.notifications import NotificationRelay
from bot.ordering import PerChatUpdateProcessor
from bot.pace import TelegramPace
from bot.persistence import DatabasePersistence, SharedStateBot, resolve_shared_button
from bot.rasa import RasaClient
from bot.render import ButtonChoice, Renderer
from bot.simple_mode import SETTINGS_COMMAND, DisplayChoice
from bot.state_store import BotStateStore
from sportello.settings import Settings

logger = logging.getLogger(__name__)

NOTIFICATIONS = "notifications"
HANDOFF_STORE = "handoff_store"
HANDOFF_WATCH = "handoff_watch"
HANDOFF_PURGE = "handoff_purge"
# What the bot asks Telegram for: messages and button presses, nothing else. No edited messages:
# a live location is edited every few seconds, and an edited text is no new question.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


async def ignore_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edit that arrives anyway (asked for by an older run, say) starts no turn."""
    raise ApplicationHandlerStop


CONVERSATIONS = "conversations"
RETENTION = "retention"
HEALTH = "health"


def rate_limiter(settings: Settings) -> AIORateLimiter:
    """At most 30 messages in any second overall (bot/pace.py) and 20 a minute per group, as
    Telegram asks; a 429's retry_after is waited out and the message sent again. Telegram's 30
    are for the bot, not for each replica: with N replicas each keeps 30 / N
    (TELEGRAM_MESSAGES_PER_SECOND, which `make run-production` sets)."""
    return TelegramPace(max_retries=3, rate=settings.telegram_messages_per_second)


async def keep_only_recent(
    conversations: ConversationStore, handoffs: HandoffStore, settings: Settings
) -> None:
    """For the life of the bot, every CONVERSATION_RETENTION_INTERVAL_SECONDS: delete the
    conversation older than CONVERSATION_RETENTION_DAYS in Rasa's store, and the transcripts
    of tickets closed longer ago than HANDOFF_RETENTION_DAYS."""
    while True:
        try:
            deleted = await conversations.forget_older_than(settings.conversation_retention_days)
            purged = await handoffs.purge_transcripts(settings.handoff_retention_days)
            if deleted or purged:
                # Counts only: what was deleted says nothing about anyone.
                logger.info("Retention deleted %d conversation events, %d transcript lines", deleted, purged)
        except Exception as error:  # noqa: BLE001 - the job must outlive one failure
            logger.warning("Retention job failed: %s", type(error).__name__)
        await asyncio.sleep(settings.conversation_retention_interval_seconds)


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """Wire the Telegram application: every handler of the bot on one screen."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    state_dir = Path(settings.bot_state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    # Shared by the replicas, in the handoff tickets' database: the buttons' meaning (a button
    # shown by any replica, or before a restart, still works) and each citizen's display
    # preference (simple or compact mode), nothing else.
    database_url = (
        settings.handoff_database_url or f"sqlite+aiosqlite:///{(state_dir / 'handoff.db').resolve()}"
    )
    state = BotStateStore(database_url, settings.bot_button_store_size)
    persistence = DatabasePersistence(state)
    api = settings.telegram_api_url.rstrip("/")

    async def open_resources(application: Application) -> None:  # type: ignore[type-arg]
        application.bot_data[HEALTH] = await start_health(
            settings.bot_health_host, settings.bot_health_port, settings.rasa_url
        )
        session = aiohttp.ClientSession()
        renderer = Renderer(application.bot, session)
        backoffice = BackOfficeClient(
            session,
            base_url=settings.backoffice_url,
            api_key=settings.backoffice_api_key.get_secret_value(),
            timeout=30.0,
        )
        application.bot_data[handlers.SERVICES] = handlers.BotServices(
            session=session,
            rasa=RasaClient(session, settings.rasa_url, settings.rasa_timeout_seconds),
            renderer=renderer,
            backoffice=backoffice,
            handoffs=None,  # type: ignore[arg-type]  # set just below, once its store is open
        )
        store = await HandoffStore.open(database_url)
        purge = functools.partial(store.purge_transcripts, settings.handoff_retention_days)
        await purge()
        if settings.handoff_purge_interval_seconds > 0:
            # Transcripts go when their time is up, not at the next restart.
            application.bot_data[HANDOFF_PURGE] = asyncio.create_task(
                every(settings.handoff_purge_interval_seconds, purge, "Transcript purge")
            )
        handoffs = Handoffs(
            application.bot,
            store,
            backoffice,
            settings.staff_chat_id,
            switchboard=f"{settings.comune_switchboard} ({settings.comune_switchboard_hours})",
        )
        application.bot_data[handlers.SERVICES].handoffs = handoffs
        application.bot_data[HANDOFF_STORE] = store
        conversations = ConversationStore.open(settings.tracker_store_url)
        application.bot_data[CONVERSATIONS] = conversations
        application.bot_data[handlers.SERVICES].personal_data = PersonalData(
            application.bot,
            backoffice,
            conversations,
            handoffs,
            settings.comune_name,
            settings.conversation_retention_days,
            settings.handoff_retention_days,
        )
        if settings.conversation_retention_interval_seconds > 0:
            application.bot_data[RETENTION] = asyncio.create_task(
                keep_only_recent(conversations, store, settings)
            )
        application.bot_data[HANDOFF_WATCH] = asyncio.create_task(
            application.bot_data[handlers.SERVICES].handoffs.watch_unclaimed(
                settings.handoff_unclaimed_minutes
            )
        )
        relay = NotificationRelay(backoffice, renderer)
        application.bot_data[NOTIFICATIONS] = asyncio.create_task(relay.run_forever())
        await application.bot.set_my_commands(
            [BotCommand(name, text) for name, text in handlers.COMMAND_DESCRIPTIONS.items()]
        )

    async def stop_notifications(application: Application) -> None:  # type: ignore[type-arg]
        # Before Telegram's client closes: the notices on their way finish and are reported
        # sent, so a restart never sends one of them again.
        task = application.bot_data.pop(NOTIFICATIONS, None)
        if isinstance(task, asyncio.Task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close_resources(application: Application) -> None:  # type: ignore[type-arg]
        for key in (NOTIFICATIONS, HANDOFF_WATCH, HANDOFF_PURGE, RETENTION):
            task = application.bot_data.pop(key, None)
            if isinstance(task, asyncio.Task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        health = application.bot_data.pop(HEALTH, None)
        if isinstance(health, web.AppRunner):
            await health.cleanup()
        store = application.bot_data.pop(HANDOFF_STORE, None)
        if isinstance(store, HandoffStore):
            await store.close()
        conversations = application.bot_data.pop(CONVERSATIONS, None)
        if isinstance(conversations, ConversationStore):
            await conversations.close()
        services = application.bot_data.pop(handlers.SERVICES, None)
        if isinstance(services, handlers.BotServices):
            await services.session.close()

    processor = PerChatUpdateProcessor(
        settings.bot_max_concurrent_updates,
        settings.bot_chat_queue_limit,
        # The staff group answers many citizens at once: never capped.
        uncapped=() if settings.staff_chat_id is None else (settings.staff_chat_id,),
    )
    bot = SharedStateBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        # As PTB's builder would: many calls to Telegram at once, one for getUpdates.
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(),
        rate_limiter=rate_limiter(settings),
        store=state,
        # Enough for every keyboard shown in a busy day's hours (PTB's default is 1024).
        buttons_kept=settings.bot_button_store_size,
    )
    application = (
        Application.builder()
        .bot(bot)
        .persistence(persistence)
        .concurrent_updates(processor)
        .post_init(open_resources)
        .post_stop(stop_notifications)
        .post_shutdown(close_resources)
        .build()
    )
    # Each update's user data is in the database before the chat's next update begins.
    processor.after = application.update_persistence

    async def tell_too_fast(chat_id: int) -> None:
        try:
            await application.bot.send_message(chat_id, texts.TOO_FAST)
        except TelegramError as error:
            logger.info("Chat not told it writes too fast: %s", type(error).__name__)

    processor.tell = tell_too_fast

    private = filters.ChatType.PRIVATE
    composer = Composer(frozenset(settings.staff_publisher_ids))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, ignore_edit), group=-2)
    # Before any other handler, a pressed button gets its meaning (from the database when another
    # replica showed it): every callback query, whatever its data.
    application.add_handler(CallbackQueryHandler(resolve_shared_button, pattern=object), group=-2)
    # During a handoff the citizen's messages go to staff: checked before anything else.
    application.add_handler(TypeHandler(Update, staff_handlers.relay_during_handoff), group=-1)
    if settings.staff_chat_id is not None:
        staff = filters.Chat(settings.staff_chat_id)
        application.add_handler(
            CommandHandler("chiudi", staff_handlers.close_ticket_with_note, filters=staff)
        )
        # `/risposte` lists the staff's canned replies, `/risposta N` sends one to the citizen.
        application.add_handler(CommandHandler("risposte", staff_handlers.list_canned_replies, filters=staff))
        application.add_handler(CommandHandler("risposta", staff_handlers.send_canned_reply, filters=staff))
        # /avviso: the guided composer of a notice to the citizens (publishers only).
        application.add_handler(CommandHandler("avviso", composer.start, filters=staff))
        application.add_handler(
            MessageHandler(
                staff & (filters.TEXT | filters.PHOTO | filters.Document.ALL) & ~filters.COMMAND,
                composer.receive,
            ),
            group=-3,
        )
        application.add_handler(
            MessageHandler(
                staff & filters.IS_TOPIC_MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
                staff_handlers.relay_staff_message,
            )
        )
    application.add_handler(CallbackQueryHandler(staff_handlers.press_staff_button, pattern=StaffAction))
    application.add_handler(CallbackQueryHandler(composer.press, pattern=ComposerAction))
    application.add_handler(
        CallbackQueryHandler(staff_handlers.press_citizen_handoff_button, pattern=CitizenAction)
    )
    application.add_handler(
        CommandHandler(list(handlers.COMMAND_PAYLOADS), handlers.run_command, filters=private)
    )
    application.add_handler(CommandHandler(SETTINGS_COMMAND, handlers.show_settings, filters=private))
    application.add_handler(CallbackQueryHandler(handlers.press_button, pattern=ButtonChoice))
    application.add_handler(CallbackQueryHandler(handlers.press_display_choice, pattern=DisplayChoice))
    application.add_handler(CallbackQueryHandler(handlers.reject_stale_button, pattern=InvalidCallbackData))
    application.add_handler(CallbackQueryHandler(handlers.reject_stale_button))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.forward_text))
    application.add_handler(
        MessageHandler(
            # A GIF also carries a document: it is answered, not uploaded.
            private & (filters.PHOTO | filters.Document.ALL | filters.LOCATION) & ~filters.ANIMATION,
            attachments.forward_attachment,
        )
    )
    # Voice, stickers, GIFs, videos, contacts, dice, polls: a kind word and the menu, never silence.
    application.add_handler(
        MessageHandler(private & ~filters.StatusUpdate.ALL, attachments.answer_unreadable)
    )
    application.add_error_handler(handlers.report_error)
    return application


def run(settings: Settings) -> None:
    """Serve Telegram: webhook when WEBHOOK_URL is set, long polling otherwise."""
    application = build_application(settings)
    if settings.webhook_url:
        from urllib.parse import urlparse

        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            secret_token=secret,
            webhook_url=settings.webhook_url,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
