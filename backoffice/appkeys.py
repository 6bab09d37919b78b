"""Typed keys of what the back-office application holds (engine, sessions, settings)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sportello.clock import Clock
from sportello.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONMAKER: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey(
    "sessionmaker", async_sessionmaker
)

# What time it is: the wall clock, or a frozen one that tests set (sportello.clock).
CLOCK = web.AppKey("clock", Clock)
