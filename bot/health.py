"""The bot's own small listener: `/health`, `/ready` and `/metrics`, on loopback.

Telegram's webhook (or long polling) is the bot's work; this listener is for the supervisor,
the balancer and Prometheus. `BOT_HEALTH_PORT` (0: none) and `BOT_HEALTH_HOST` (127.0.0.1).
`/ready` answers 200 once the bot is serving and Rasa's REST channel answers, 503 otherwise.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from sportello.metrics import CONTENT_TYPE, SECONDS, WAITING, Counter, Gauge, Histogram, exposition

TURNS = Counter("sportello_bot_turns_total", "Messages sent to Rasa, by outcome", ["outcome"])
TURN_TIME = Histogram("sportello_bot_turn_seconds", "Time Rasa took to answer one message", buckets=SECONDS)
DELIVERIES = Counter("sportello_bot_deliveries_total", "Notifications handled, by outcome", ["outcome"])
QUEUED = Gauge("sportello_bot_queued_updates", "Updates admitted and not yet done, over every chat")
BUSIEST_CHAT = Gauge("sportello_bot_busiest_chat_queue", "Updates admitted for the busiest chat now")
DROPPED = Counter("sportello_bot_dropped_updates_total", "Updates dropped because a chat wrote too fast")
HANDOFF_WAIT = Histogram(
    "sportello_bot_handoff_wait_seconds",
    "From asking for a person to a clerk taking the ticket",
    buckets=WAITING,
)


def health_app(rasa_url: str) -> web.Application:
    app = web.Application()
    rasa_root = rasa_url.rstrip("/") + "/"

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_: web.Request) -> web.Response:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
                async with session.get(rasa_root) as response:
                    if response.status == 200:
                        return web.json_response({"status": "ready"})
        except (aiohttp.ClientError, TimeoutError):
            pass
        return web.json_response({"status": "waiting for Rasa"}, status=503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=exposition(), content_type=CONTENT_TYPE)

    app.add_routes([web.get("/health", health), web.get("/ready", ready), web.get("/metrics", metrics)])
    return app


async def start_health(host: str, port: int, rasa_url: str) -> web.AppRunner | None:
    """Listen on host:port; None when the port is 0."""
    if not port:
        return None
    runner = web.AppRunner(health_app(rasa_url), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
