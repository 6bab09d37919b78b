"""What Rasa or an action sends (text, buttons, image, QR, document) arrives in Telegram as such."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
import zxingcpp
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image
from telegram.ext import ExtBot

from bot.render import Renderer
from localtelegram import BotApiDriver, BotApiServerThread

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture()
async def files() -> AsyncIterator[TestServer]:
    """A loopback server standing for the back office's file URLs."""
    app = web.Application()
    app.router.add_get("/img.png", lambda _: web.Response(body=_png(), content_type="image/png"))
    app.router.add_get("/ricevuta.pdf", lambda _: web.Response(body=PDF, content_type="application/pdf"))
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture()
def telegram() -> AsyncIterator[BotApiServerThread]:
    server = BotApiServerThread(token="626262:RENDER-TEST").start()
    yield server  # type: ignore[misc]
    server.stop()


async def test_rasa_answers_are_rendered_in_order(files: TestServer, telegram: BotApiServerThread) -> None:
    driver = BotApiDriver(telegram.url)
    citizen = driver.user(990_001, first_name="Paola")
    citizen.send("ciao")  # a private chat exists once the citizen has written
    qr_payload = "PAGOPA|002|301000000000012345|83000950588|12345"
    answers = [
        {"text": "Ecco il tuo avviso:", "buttons": [{"title": "🏠 Menu", "payload": "/main_menu"}]},
        {"custom": {"qr": qr_payload, "caption": "Avviso pagoPA"}},
        {"custom": {"document_url": str(files.make_url("/ricevuta.pdf")), "filename": "ricevuta.pdf"}},
        {"image": str(files.make_url("/img.png"))},
        {"text": "riga\n" * 1500},
    ]
    async with aiohttp.ClientSession() as session, ExtBot(
        telegram.token, base_url=telegram.bot_url, base_file_url=telegram.file_url, arbitrary_callback_data=True
    ) as bot:
        await Renderer(bot, session).render(citizen.chat_id, answers)

    said = driver.outputs(citizen.chat_id)
    assert [m.kind for m in said] == ["text", "photo", "document", "photo", "text", "text"]
    assert said[0].buttons == ["🏠 Menu"]
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(said[1].download())))
    assert [code.text for code in decoded] == [qr_payload]
    assert said[1].caption == "Avviso pagoPA"
    assert said[2].file_name == "ricevuta.pdf" and said[2].download() == PDF
    assert Image.open(io.BytesIO(said[3].download())).size == (8, 8)
    assert sum(len(m.content) for m in said[4:]) >= 1500 * 5 - 10
    driver.close()
