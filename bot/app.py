"""Build the whole bot in one place: handlers, persistence, ordering, resources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import aiohttp
from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InvalidCallbackData,
    MessageHandler,
    PersistenceInput,
    PicklePersistence,
    TypeHandler,
    filters,
)

from backend_client import BackOfficeClient
from bot import handlers
from bot.handoff import CitizenAction, Handoffs, StaffAction
from bot.handoff_store import HandoffStore
from bot.notifications import NotificationRelay
from bot.ordering import PerChatUpdateProcessor
from bot.rasa import RasaClient
from bot.render import ButtonChoice, Renderer
from bot.simple_mode import SETTINGS_COMMAND, DisplayChoice
from sportello.settings import Settings

logger = logging.getLogger(__name__)

NOTIFICATIONS = "notifications"
HANDOFF_STORE = "handoff_store"
HANDOFF_WATCH = "handoff_watch"



def rate_limiter() -> AIORateLimiter:
    """At most 30 messages a second overall (one every 1/30 s, no burst) and 20 a minute per
    group, as Telegram asks; a 429's retry_after is waited out and the message sent again."""
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 30, max_retries=3)

def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """Wire the Telegram application: every handler of the bot on one screen."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    state_dir = Path(settings.bot_state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    # Persisted: the buttons' meaning (a button sent before a restart still works) and each
    # citizen's display preference (simple or compact mode), nothing else.
    persistence = PicklePersistence(
        filepath=state_dir / "bot-state.pickle",
        store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=True),
        update_interval=5,
    )
    api = settings.telegram_api_url.rstrip("/")

    async def open_resources(application: Application) -> None:  # type: ignore[type-arg]
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
        store = await HandoffStore.open(
            settings.handoff_database_url or f"sqlite+aiosqlite:///{(state_dir / 'handoff.db').resolve()}"
        )
        await store.purge_transcripts(settings.handoff_retention_days)
        application.bot_data[handlers.SERVICES].handoffs = Handoffs(
            application.bot, store, backoffice, settings.staff_chat_id
        )
        application.bot_data[HANDOFF_STORE] = store
        application.bot_data[HANDOFF_WATCH] = asyncio.create_task(
            application.bot_data[handlers.SERVICES].handoffs.watch_unclaimed(settings.handoff_unclaimed_minutes)
        )
        relay = NotificationRelay(backoffice, renderer)
        application.bot_data[NOTIFICATIONS] = asyncio.create_task(relay.run_forever())
        await application.bot.set_my_commands(
            [BotCommand(name, text) for name, text in handlers.COMMAND_DESCRIPTIONS.items()]
        )

    async def close_resources(application: Application) -> None:  # type: ignore[type-arg]
        for key in (NOTIFICATIONS, HANDOFF_WATCH):
            task = application.bot_data.pop(key, None)
            if isinstance(task, asyncio.Task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        store = application.bot_data.pop(HANDOFF_STORE, None)
        if isinstance(store, HandoffStore):
            await store.close()
        services = application.bot_data.pop(handlers.SERVICES, None)
        if isinstance(services, handlers.BotServices):
            await services.session.close()

    application = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .arbitrary_callback_data(True)
        .persistence(persistence)
        .concurrent_updates(PerChatUpdateProcessor())
        .rate_limiter(rate_limiter())
        .post_init(open_resources)
        .post_shutdown(close_resources)
        .build()
    )

    private = filters.ChatType.PRIVATE
    # During a handoff the citizen's messages go to staff: checked before anything else.
    application.add_handler(TypeHandler(Update, handlers.relay_during_handoff), group=-1)
    if settings.staff_chat_id is not None:
        staff = filters.Chat(settings.staff_chat_id)
        application.add_handler(CommandHandler("chiudi", handlers.close_ticket_with_note, filters=staff))
        application.add_handler(
            MessageHandler(staff & filters.IS_TOPIC_MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
                           handlers.relay_staff_message)
        )
    application.add_handler(CallbackQueryHandler(handlers.press_staff_button, pattern=StaffAction))
    application.add_handler(CallbackQueryHandler(handlers.press_citizen_handoff_button, pattern=CitizenAction))
    application.add_handler(
        CommandHandler(list(handlers.COMMAND_PAYLOADS), handlers.run_command, filters=private)
    )
    application.add_handler(CommandHandler(SETTINGS_COMMAND, handlers.show_settings, filters=private))
    application.add_handler(CallbackQueryHandler(handlers.press_button, pattern=ButtonChoice))
    application.add_handler(CallbackQueryHandler(handlers.press_display_choice, pattern=DisplayChoice))
    application.add_handler(
        CallbackQueryHandler(handlers.reject_stale_button, pattern=InvalidCallbackData)
    )
    application.add_handler(CallbackQueryHandler(handlers.reject_stale_button))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.forward_text))
    application.add_handler(
        MessageHandler(
            # A GIF also carries a document: it is answered, not uploaded.
            private & (filters.PHOTO | filters.Document.ALL | filters.LOCATION) & ~filters.ANIMATION,
            handlers.forward_attachment,
        )
    )
    # Voice, stickers, GIFs, videos, contacts, dice, polls: a kind word and the menu, never silence.
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, handlers.answer_unreadable))
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
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
