"""The local Bot API server speaks the protocol a real python-telegram-bot 22 Bot understands."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import struct
import time
import warnings
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMemberAdministrator,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from localtelegram import BotApiDriver, BotApiServerThread, TelegramUser


def make_png(width: int, height: int) -> bytes:
    """A valid grey PNG, so the server can read real dimensions from it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = make_png(640, 480)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MENU = InlineKeyboardMarkup([
    [InlineKeyboardButton("Tributi", callback_data="menu:tributi")],
    [InlineKeyboardButton("Anagrafe", callback_data="menu:anagrafe"),
     InlineKeyboardButton("Sito", url="https://comune.example.it")],
])


@pytest.fixture(scope="module")
def botapi() -> Iterator[BotApiServerThread]:
    with BotApiServerThread(port=0) as server:
        yield server


@pytest.fixture
def tg(botapi: BotApiServerThread) -> Iterator[BotApiDriver]:
    driver = BotApiDriver(botapi.url)
    driver.reset()
    yield driver
    driver.close()


@pytest.fixture
def citizen(tg: BotApiDriver) -> TelegramUser:
    maria = tg.user(1001, first_name="Maria", username="maria_rossi")
    # Telegram bots may only write to users who wrote first.
    maria.send("/start")
    return maria


@pytest_asyncio.fixture
async def bot(botapi: BotApiServerThread) -> AsyncIterator[Bot]:
    async with Bot(botapi.token, base_url=botapi.bot_url, base_file_url=botapi.file_url) as ptb_bot:
        yield ptb_bot


async def in_thread(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Driver calls are blocking; keep the test's event loop (and PTB) running meanwhile."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def seconds(read: Callable[[], int | float | dtm.timedelta]) -> float:
    """PTB 22 returns durations as int or timedelta (PTB_TIMEDELTA) and warns about the int form."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = read()
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def drain(bot: Bot) -> int:
    """Confirm every pending update; returns the next offset."""
    updates = await bot.get_updates(timeout=0)
    offset = updates[-1].update_id + 1 if updates else 0
    await bot.get_updates(offset=offset, timeout=0)
    return offset


@pytest.mark.asyncio
async def test_get_me_and_http_errors(bot: Bot, botapi: BotApiServerThread) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == int(botapi.token.split(":")[0])
    assert me.username == "sportello_test_bot"
    async with httpx.AsyncClient() as client:
        r = await client.get(f"{botapi.url}/bot999:WRONG/getMe")
        assert (r.status_code, r.json()) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        r = await client.post(f"{botapi.url}/bot{botapi.token}/noSuchMethod", json={})
        assert (r.status_code, r.json()) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
        r = await client.post(f"{botapi.url}/bot{botapi.token}/getMe", data={})
        assert r.json()["ok"] is True and r.json()["result"]["id"] == me.id


@pytest.mark.asyncio
async def test_send_edit_and_press_inline_keyboard(bot: Bot, tg: BotApiDriver, citizen: TelegramUser) -> None:
    sent = await bot.send_message(citizen.chat_id, "Come posso aiutarti?", reply_markup=MENU)
    assert sent.text == "Come posso aiutarti?" and sent.from_user and sent.from_user.is_bot
    assert sent.reply_markup == MENU
    assert sent.chat.id == citizen.chat_id and sent.message_id == 2  # /start was message 1

    [reply] = await in_thread(citizen.wait_replies, 1, 5)
    assert reply.kind == "text" and reply.buttons == ["Tributi", "Anagrafe", "Sito"]
    assert reply.button_data("Tributi") == "menu:tributi"

    edited = await bot.edit_message_text("Tributi: scegli", citizen.chat_id, sent.message_id,
                                         reply_markup=InlineKeyboardMarkup.from_button(
                                             InlineKeyboardButton("Paga IMU", callback_data="imu")))
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_text("Tributi: scegli", citizen.chat_id, sent.message_id,
                                    reply_markup=InlineKeyboardMarkup.from_button(
                                        InlineKeyboardButton("Paga IMU", callback_data="imu")))
    [edit] = await in_thread(citizen.wait_replies, 1, 5)
    assert (edit.kind, edit.edit, edit.text, edit.buttons) == ("edit", "text", "Tributi: scegli", ["Paga IMU"])

    # The old "Tributi" button is gone after the edit; "Paga IMU" is pressable.
    with pytest.raises(RuntimeError, match="(?i)no button"):
        await in_thread(citizen.press, "Tributi")
    await drain(bot)
    pressed = await in_thread(citizen.press, "Paga IMU")
    [update] = await bot.get_updates(timeout=5)
    query = update.callback_query
    assert query is not None and query.data == "imu" and query.from_user.id == citizen.user_id
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.id == pressed["callback_query_id"]
    assert await query.answer("Apro i pagamenti…")
    answer = await in_thread(citizen.wait_callback_answer, 5)
    assert answer.text == "Apro i pagamenti…"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await query.answer("again")

    no_keyboard = await bot.edit_message_reply_markup(citizen.chat_id, sent.message_id, reply_markup=None)
    assert not isinstance(no_keyboard, bool) and no_keyboard.reply_markup is None
    assert await bot.delete_message(citizen.chat_id, sent.message_id)
    kinds = [m.kind for m in await in_thread(citizen.wait_replies, 2, 5)]
    assert kinds == ["edit", "delete"]


@pytest.mark.asyncio
async def test_limits_are_enforced(bot: Bot, tg: BotApiDriver, citizen: TelegramUser) -> None:
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(citizen.chat_id, "x" * 4097)
    assert (await bot.send_message(citizen.chat_id, "x" * 4096)).text == "x" * 4096
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(citizen.chat_id, "   ")
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(citizen.chat_id, "menu", reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("x", callback_data="é" * 33)))  # 66 bytes in UTF-8
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(citizen.chat_id, "importo < 10 euro", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)reserved"):
        await bot.send_message(citizen.chat_id, "Scadenza 16.12", parse_mode=ParseMode.MARKDOWN_V2)
    html = await bot.send_message(citizen.chat_id, "<b>IMU</b> &lt;acconto&gt;", parse_mode=ParseMode.HTML)
    assert html.text == "IMU <acconto>"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [("bold", 0, 3)]
    stranger = tg.user(4242, first_name="Nessuno")
    with pytest.raises(Forbidden, match="(?i)initiate conversation"):
        await bot.send_message(stranger.chat_id, "ciao")
    await in_thread(citizen.block_bot)
    with pytest.raises(Forbidden, match="(?i)blocked by the user"):
        await bot.send_message(citizen.chat_id, "ciao")


@pytest.mark.asyncio
async def test_photo_and_document_round_trip(bot: Bot, tg: BotApiDriver, citizen: TelegramUser) -> None:
    photo_msg = await bot.send_photo(citizen.chat_id, PNG, caption="Mappa dell'ufficio")
    assert photo_msg.caption == "Mappa dell'ufficio"
    largest = photo_msg.photo[-1]
    assert (largest.width, largest.height, largest.file_size) == (640, 480, len(PNG))
    assert [p.width for p in photo_msg.photo] == [90, 320, 640]
    photo_file = await bot.get_file(largest.file_id)
    assert bytes(await photo_file.download_as_bytearray()) == PNG

    doc_msg = await bot.send_document(citizen.chat_id, PDF, filename="ricevuta.pdf", caption="La tua ricevuta")
    assert doc_msg.document is not None
    assert (doc_msg.document.file_name, doc_msg.document.mime_type) == ("ricevuta.pdf", "application/pdf")
    doc_file = await bot.get_file(doc_msg.document)
    assert doc_file.file_path and doc_file.file_path.endswith(".pdf")
    assert bytes(await doc_file.download_as_bytearray()) == PDF

    # Re-sending by file_id needs no upload.
    again = await bot.send_document(citizen.chat_id, doc_msg.document.file_id)
    assert again.document is not None and again.document.file_id == doc_msg.document.file_id
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(citizen.chat_id, b"not an image")
    voice_msg = await bot.send_voice(citizen.chat_id, b"OggS\x00voice", duration=2)
    assert voice_msg.voice is not None and voice_msg.voice.mime_type == "audio/ogg"

    photo, doc, resent, voice = await in_thread(citizen.wait_replies, 4, 5)
    assert (photo.kind, doc.kind, resent.kind, voice.kind) == ("photo", "document", "document", "voice")
    assert await in_thread(voice.download) == b"OggS\x00voice"
    assert await in_thread(photo.download) == PNG
    assert doc.file_name == "ricevuta.pdf" and await in_thread(doc.download) == PDF


@pytest.mark.asyncio
async def test_get_updates_offset_and_long_polling(bot: Bot, tg: BotApiDriver) -> None:
    maria = tg.user(1002, first_name="Maria")
    start = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - start >= 0.9  # it really waited

    async def type_later() -> None:
        await asyncio.sleep(0.3)
        await in_thread(maria.send, "/start")

    typing = asyncio.create_task(type_later())
    start = time.monotonic()
    [update] = await bot.get_updates(timeout=10)
    await typing
    assert time.monotonic() - start < 5  # woke up on the update, not at the timeout
    assert isinstance(update, Update) and update.message is not None
    assert update.message.text == "/start" and update.effective_user and update.effective_user.id == 1002
    assert update.message.entities[0].type == "bot_command"
    # Unconfirmed updates come back; an offset past them confirms them.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()

    sent = await bot.send_message(maria.chat_id, "Menu", reply_markup=MENU)
    await in_thread(maria.press, "Anagrafe")
    await in_thread(maria.send_photo, PNG, "foto della buca")
    await in_thread(maria.send_location, 41.9, 12.5)
    await in_thread(maria.send_document, PDF, "delega.pdf", "application/pdf")
    await in_thread(maria.send_voice, b"OggS\x00fake-opus", 3)
    await in_thread(maria.press_raw, sent.message_id, "forged:../../admin")
    updates = await bot.get_updates(offset=update.update_id + 1, timeout=5, limit=2)
    assert len(updates) == 2
    updates += await bot.get_updates(offset=updates[-1].update_id + 1, timeout=5)
    callback, photo, location, document, voice, forged = updates
    assert callback.callback_query and callback.callback_query.data == "menu:anagrafe"
    assert photo.message and photo.message.caption == "foto della buca"
    photo_file = await bot.get_file(photo.message.photo[-1].file_id)
    assert bytes(await photo_file.download_as_bytearray()) == PNG
    assert location.message and location.message.location and location.message.location.latitude == 41.9
    assert document.message and document.message.document and document.message.document.file_name == "delega.pdf"
    assert voice.message and voice.message.voice
    assert seconds(lambda: voice.message.voice.duration) == 3  # type: ignore[union-attr]
    assert forged.callback_query and forged.callback_query.data == "forged:../../admin"


@pytest.mark.asyncio
async def test_every_kind_of_message_a_citizen_can_send_reads_as_the_bot_api_shapes_it(
    bot: Bot, tg: BotApiDriver, citizen: TelegramUser
) -> None:
    offset = await drain(bot)
    await in_thread(citizen.send_sticker, "😀")
    await in_thread(citizen.send_audio, b"ID3fake-mp3", 95, title="Inno")
    await in_thread(citizen.send_video, b"\x00\x00\x00\x18ftypmp42video", 7)
    await in_thread(citizen.send_video_note, b"\x00\x00\x00\x18ftypmp42round", 4)
    await in_thread(citizen.send_animation, b"\x00\x00\x00\x18ftypmp42gif")
    await in_thread(citizen.send_contact, "+393331234567", "Maria")
    await in_thread(citizen.send_dice, "🎲", 4)
    await in_thread(citizen.send_poll, "Pizza o pasta?", ["Pizza", "Pasta"])
    updates = await bot.get_updates(offset=offset, timeout=5)
    sticker, audio, video, note, gif, contact, dice, poll = (u.message for u in updates)
    assert sticker and sticker.sticker and sticker.sticker.emoji == "😀"
    assert audio and audio.audio and audio.audio.title == "Inno" and audio.audio.mime_type == "audio/mpeg"
    assert seconds(lambda: audio.audio.duration) == 95  # type: ignore[union-attr]
    assert video and video.video and video.video.width > 0 and not video.video_note
    assert note and note.video_note and note.video_note.length == 240 and not note.video
    # A GIF is an animation that also carries a document, as in the real Bot API.
    assert gif and gif.animation and gif.document and gif.document.file_id == gif.animation.file_id
    assert bytes(await (await bot.get_file(gif.animation.file_id)).download_as_bytearray()).endswith(b"gif")
    assert contact and contact.contact and contact.contact.user_id == citizen.user_id
    assert dice and dice.dice and (dice.dice.emoji, dice.dice.value) == ("🎲", 4)
    assert poll and poll.poll and [o.text for o in poll.poll.options] == ["Pizza", "Pasta"]


@pytest.mark.asyncio
async def test_a_reply_keyboard_button_can_be_tapped_even_when_a_message_shows_the_same_title(
    bot: Bot, tg: BotApiDriver, citizen: TelegramUser
) -> None:
    offset = await drain(bot)
    await bot.send_message(citizen.chat_id, "Menu", reply_markup=ReplyKeyboardMarkup([["Tributi"]], is_persistent=True))
    await bot.send_message(citizen.chat_id, "Scegli", reply_markup=MENU)
    await in_thread(citizen.press, "Tributi", keyboard=True)
    await in_thread(citizen.press, "Tributi")
    typed, pressed = await bot.get_updates(offset=offset, timeout=5)
    assert typed.message and typed.message.text == "Tributi"
    assert pressed.callback_query and pressed.callback_query.data == "menu:tributi"
    assert await in_thread(citizen.keyboard) == [["Tributi"]]  # persistent: it stays


@pytest.mark.asyncio
async def test_second_poller_conflicts(bot: Bot, botapi: BotApiServerThread, tg: BotApiDriver) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(botapi.token, base_url=botapi.bot_url) as other:
        await other.get_updates(timeout=0)
    with pytest.raises(Conflict, match="(?i)terminated by other getUpdates"):
        await first


async def webhook_receiver(hook: Callable[[web.Request], Awaitable[web.Response]]) -> tuple[web.AppRunner, int]:
    """A bot's webhook on a free loopback port, at /tg; the caller cleans the runner up."""
    app = web.Application()
    app.router.add_post("/tg", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


@pytest.mark.asyncio
async def test_webhook_delivery_with_secret_and_retry(bot: Bot, tg: BotApiDriver) -> None:
    received: list[tuple[str | None, dict]] = []  # type: ignore[type-arg]
    failures = [1]

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        if failures and failures.pop():
            return web.Response(status=500)  # Telegram must retry the same update
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body))
        return web.Response(text="ok")

    runner, port = await webhook_receiver(hook)
    try:
        anna = tg.user(1003, first_name="Anna")
        await in_thread(anna.send, "prima")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="s3cret_T0ken",
                                     drop_pending_updates=True)
        await in_thread(anna.send, "ciao")
        await in_thread(anna.send, "seconda")
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.05)
        assert [s for s, _ in received] == ["s3cret_T0ken", "s3cret_T0ken"]
        updates = [Update.de_json(body, bot) for _, body in received]
        assert [u.message.text for u in updates if u.message] == ["ciao", "seconda"]  # "prima" was dropped
        info = await bot.get_webhook_info()
        assert info.url == f"http://127.0.0.1:{port}/tg" and info.pending_update_count == 0
        with pytest.raises(Conflict, match="(?i)webhook is active"):
            await bot.get_updates(timeout=0)
        with pytest.raises(BadRequest, match="(?i)bad webhook"):
            await bot.set_webhook("https://example.org/hook")  # nothing leaves loopback
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
    assert (await bot.get_webhook_info()).url == ""


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own retry_after
async def test_flood_control_raises_retry_after(bot: Bot, tg: BotApiDriver, citizen: TelegramUser) -> None:
    await in_thread(tg.throttle, 2, 7)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(citizen.chat_id, "troppi messaggi")
        assert seconds(lambda: caught.value.retry_after) == 7
    assert (await bot.send_message(citizen.chat_id, "ora sì")).text == "ora sì"
    failed = [c for c in await in_thread(tg.calls, "sendMessage") if not c["ok"]]
    assert [c["error_code"] for c in failed] == [429, 429]


@pytest.mark.asyncio
async def test_forum_topics_and_staff_group(bot: Bot, tg: BotApiDriver) -> None:
    operator = tg.user(2001, first_name="Giulia", username="op_giulia")
    staff = tg.group(-1001234567890, "Staff URP", forum=True, members={operator: "administrator"})
    topic = await bot.create_forum_topic(staff.chat_id, "Pratica #42 – Maria")
    assert isinstance(topic, ForumTopic) and topic.name == "Pratica #42 – Maria"
    assert topic.icon_color == 7322096
    posted = await bot.send_message(staff.chat_id, "Nuova richiesta", message_thread_id=topic.message_thread_id)
    assert posted.message_thread_id == topic.message_thread_id and posted.is_topic_message
    with pytest.raises(BadRequest, match="(?i)thread not found"):
        await bot.send_message(staff.chat_id, "x", message_thread_id=999999)

    await drain(bot)
    in_topic = operator.in_chat(staff, thread_id=topic.message_thread_id)
    await in_thread(in_topic.send, "La prendo io")
    [update] = await bot.get_updates(timeout=5)
    assert update.message and update.message.chat.is_forum and update.message.chat.type == "supergroup"
    assert update.message.message_thread_id == topic.message_thread_id and update.message.is_topic_message
    assert update.effective_user and update.effective_user.id == operator.user_id

    assert await bot.edit_forum_topic(staff.chat_id, topic.message_thread_id, name="Pratica #42 – chiusa")
    assert await bot.close_forum_topic(staff.chat_id, topic.message_thread_id)
    with pytest.raises(BadRequest, match="(?i)topic_not_modified"):
        await bot.close_forum_topic(staff.chat_id, topic.message_thread_id)
    assert await bot.reopen_forum_topic(staff.chat_id, topic.message_thread_id)
    kinds = [m.kind for m in await in_thread(staff.wait_replies, 5, 5)]
    assert kinds == ["topic_created", "text", "topic_edited", "topic_closed", "topic_reopened"]
    [t] = await in_thread(staff.topics)
    assert (t["name"], t["closed"]) == ("Pratica #42 – chiusa", False)

    member = await bot.get_chat_member(staff.chat_id, operator.user_id)
    assert isinstance(member, ChatMemberAdministrator) and member.user.id == operator.user_id
    chat = await bot.get_chat(staff.chat_id)
    assert isinstance(chat, ChatFullInfo) and chat.is_forum and chat.title == "Staff URP"
    with pytest.raises(BadRequest, match="(?i)not a forum"):
        await bot.create_forum_topic(operator.user_id, "no")


@pytest.mark.asyncio
async def test_reply_keyboard_commands_copy_and_actions(bot: Bot, tg: BotApiDriver, citizen: TelegramUser) -> None:
    await drain(bot)
    await bot.send_message(citizen.chat_id, "Confermi?",
                           reply_markup=ReplyKeyboardMarkup([["Sì", "No"]], one_time_keyboard=True))
    assert await in_thread(citizen.keyboard) == [["Sì", "No"]]
    await in_thread(citizen.press, "Sì")
    [update] = await bot.get_updates(timeout=5)
    assert update.message and update.message.text == "Sì"
    assert await in_thread(citizen.keyboard) == []  # one-time keyboards hide after use

    assert await bot.send_chat_action(citizen.chat_id, "typing")
    copied = await bot.copy_message(citizen.chat_id, citizen.chat_id, update.message.message_id)
    assert copied.message_id > update.message.message_id
    replies = await in_thread(citizen.wait_replies, 2, 5)
    assert [(m.kind, m.text) for m in replies] == [("text", "Confermi?"), ("text", "Sì")]
    assert replies[0].keyboard_type == "reply"

    assert await bot.set_my_commands([("start", "Inizia"), ("aiuto", "Come funziona")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "aiuto"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    raw = await in_thread(tg.outputs, citizen.chat_id, kinds=["chat_action"], min_count=0)
    assert [m.action for m in raw] == ["typing"]
    assert json.loads(json.dumps(raw[0].raw))["kind"] == "chat_action"


@pytest.mark.asyncio
async def test_file_too_big_for_get_file(bot: Bot, tg: BotApiDriver) -> None:
    luca = tg.user(1004, first_name="Luca")
    big = b"%PDF" + b"0" * (20 * 1024 * 1024 + 1)
    await in_thread(luca.send_document, big, "planimetria.pdf", "application/pdf")
    [update] = await bot.get_updates(timeout=5)
    assert update.message and update.message.document
    assert update.message.document.file_size == len(big)
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(update.message.document.file_id)


@pytest.mark.asyncio
async def test_ptb_application_driven_like_a_citizen(botapi: BotApiServerThread, tg: BotApiDriver) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_chat_action(update.effective_chat.id, "typing")
        await update.effective_chat.send_message("Ciao! Di cosa hai bisogno?", reply_markup=MENU)

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Hai scelto {query.data}")

    application = (ApplicationBuilder().token(botapi.token).base_url(botapi.bot_url)
                   .base_file_url(botapi.file_url).build())
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(menu))
    maria = tg.user(1005, first_name="Maria")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=2))
        try:
            await in_thread(maria.send, "/start")
            [welcome] = await in_thread(maria.wait_replies, 1, 10)
            assert welcome.text == "Ciao! Di cosa hai bisogno?" and "Tributi" in welcome.buttons
            await in_thread(maria.press, "Tributi")
            [edit] = await in_thread(maria.wait_replies, 1, 10)
            assert (edit.kind, edit.text, edit.buttons) == ("edit", "Hai scelto menu:tributi", [])
            answer = await in_thread(maria.wait_callback_answer, 5)
            assert answer.text is None and not answer.show_alert
        finally:
            await application.updater.stop()
            await application.stop()


@pytest.mark.asyncio
async def test_webhook_delivers_chats_in_parallel_and_each_chat_in_order(bot: Bot, tg: BotApiDriver) -> None:
    """As Telegram with max_connections: a slow chat holds only its own next update."""
    arrived: list[str] = []
    release = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        text = (await request.json())["message"]["text"]
        arrived.append(text)
        if text == "anna 1":
            await release.wait()  # the bot is still busy with Anna's first message
        return web.Response(text="ok")

    runner, port = await webhook_receiver(hook)
    try:
        anna, bruno = tg.user(1011, first_name="Anna"), tg.user(1012, first_name="Bruno")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/tg", max_connections=10)
        await in_thread(anna.send, "anna 1")
        await in_thread(anna.send, "anna 2")
        await in_thread(bruno.send, "bruno 1")
        for _ in range(100):
            if "bruno 1" in arrived:
                break
            await asyncio.sleep(0.05)
        assert arrived == ["anna 1", "bruno 1"], "Bruno is not held behind Anna; Anna's second waits"
        release.set()
        for _ in range(100):
            if len(arrived) == 3:
                break
            await asyncio.sleep(0.05)
        assert arrived == ["anna 1", "bruno 1", "anna 2"]
        assert (await bot.get_webhook_info()).pending_update_count == 0
    finally:
        release.set()
        await bot.delete_webhook()
        await runner.cleanup()
