"""Run LocalBotApi in a background thread with its own event loop, for synchronous tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Self, TypeVar

from aiohttp import web

from .server import LocalBotApi

T = TypeVar("T")


class BotApiServerThread:
    """`with BotApiServerThread() as srv:` gives `srv.url`, `srv.token`, `srv.bot_url`, `srv.file_url`."""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", token: str = "123456:LOCAL-TEST-TOKEN",
                 **server_options: Any) -> None:
        self.host = host
        self.port = port
        self.token = token
        self._options = server_options
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.server: LocalBotApi | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def bot_url(self) -> str:
        """What PTB wants as base_url (it appends the token)."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """What PTB wants as base_file_url."""
        return f"{self.url}/file/bot"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="fake-bot-api", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("local Bot API server did not start within 10 s")
        if self._error is not None:
            raise RuntimeError("local Bot API server failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except (OSError, RuntimeError, ValueError) as exc:  # surfaced to start() in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _serve(self) -> None:
        self.server = LocalBotApi(self.token, **self._options)
        # A short shutdown timeout: pending long polls are woken on shutdown anyway.
        self._runner = web.AppRunner(self.server.app, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        # With port=0 the OS picked a free port; read it back from the bound socket.
        self.port = int(self._runner.addresses[0][1])

    def call(self, fn: Callable[[LocalBotApi], T]) -> T:
        """Run fn(server) on the server's loop, so state is touched from one thread only."""
        assert self._loop is not None and self.server is not None
        server = self.server

        async def run() -> T:
            return fn(server)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def throttle(self, count: int, retry_after: int = 1, methods: list[str] | None = None) -> None:
        self.call(lambda s: s.throttle(count, retry_after, methods))

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
