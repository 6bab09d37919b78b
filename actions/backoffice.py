"""The action server's one back-office client, opened on first use inside the running loop."""

from __future__ import annotations

import asyncio

import aiohttp

from backend_client import BackOfficeClient
from sportello.settings import get_settings

_client: BackOfficeClient | None = None
_lock = asyncio.Lock()


async def backoffice() -> BackOfficeClient:
    """Return the process-wide client, creating its session on first use.

    rasa-sdk imports every module in this package at start-up, before its event loop
    runs, so the aiohttp session cannot be created at import time.
    """
    global _client
    async with _lock:
        if _client is None:
            settings = get_settings()
            session = aiohttp.ClientSession()
            _client = BackOfficeClient(
                session,
                base_url=settings.backoffice_url,
                api_key=settings.backoffice_api_key.get_secret_value(),
                timeout=5.0,
            )
    return _client
