"""Turn latency, one path beside the other in the same run: our whole stack, Rasa's own Telegram
connector, and bare Rasa REST — sequentially and with many chats writing at once.

A turn's time runs from the moment the citizen's message reaches (local) Telegram to the bot's
last message of that turn reaching it (the server stamps each call), or, for bare REST, to
Rasa's HTTP answer, which holds the whole turn. Every chat says "ciao" once before it is
measured, so no path pays a first-contact message inside the figures.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import aiohttp

from tests.bench.harness import Control, percentiles, replies_by_chat

TEXTS = ["ciao", "quali sono gli orari dell'anagrafe?", "grazie"]
BURST_TEXT = "quali sono gli orari dell'anagrafe?"
TELEGRAM_RATE = 30  # messages a second that Telegram lets a bot send overall


class TurnPath(Protocol):
    name: str

    async def warm(self, users: list[int]) -> None: ...
    async def turn(self, user: int, text: str) -> float: ...
    async def burst(self, users: list[int], text: str) -> tuple[list[float], int]: ...


class TelegramPath:
    """A bot behind a local Telegram: ours (python -m bot) or Rasa's telegram connector."""

    def __init__(self, name: str, control: Control) -> None:
        self.name = name
        self.control = control

    async def warm(self, users: list[int]) -> None:
        await self.control.add_users(users)
        after = await self.control.last_seq()
        await asyncio.gather(*(self.control.send(user, "ciao") for user in users))
        await replies_by_chat(self.control, set(users), after, settle=1.0, timeout=300)

    async def turn(self, user: int, text: str) -> float:
        after = await self.control.last_seq()
        started = await self.control.send(user, text)
        replies = await replies_by_chat(self.control, {user}, after, settle=0.25)
        return max(replies[user]) - started

    async def burst(self, users: list[int], text: str) -> tuple[list[float], int]:
        after = await self.control.last_seq()
        starts = await asyncio.gather(*(self.control.send(user, text) for user in users))
        replies = await replies_by_chat(self.control, set(users), after, settle=1.0, timeout=300)
        messages = sum(len(times) for times in replies.values())
        return [max(replies[user]) - start for user, start in zip(users, starts, strict=True)], messages


class RestPath:
    """Bare Rasa REST on the same server: what Rasa itself takes for the same turn."""

    name = "rasa_rest"

    def __init__(self, session: aiohttp.ClientSession, rasa_url: str) -> None:
        self._session = session
        self._url = f"{rasa_url}/webhooks/rest/webhook"

    async def _post(self, user: int, text: str) -> tuple[float, int]:
        started = time.time()
        async with self._session.post(self._url, json={"sender": f"bench-{user}", "message": text}) as response:
            answers = await response.json()
        return time.time() - started, len(answers)

    async def warm(self, users: list[int]) -> None:
        await asyncio.gather(*(self._post(user, "ciao") for user in users))

    async def turn(self, user: int, text: str) -> float:
        return (await self._post(user, text))[0]

    async def burst(self, users: list[int], text: str) -> tuple[list[float], int]:
        results = await asyncio.gather(*(self._post(user, text) for user in users))
        return [seconds for seconds, _ in results], sum(count for _, count in results)


async def run_turns(paths: list[TurnPath], *, rounds: int, levels: list[int]) -> dict[str, Any]:
    """Sequential turns interleaved path by path, then one burst per level per path."""
    base = {path.name: 1_000_000 * (index + 1) for index, path in enumerate(paths)}
    for path in paths:
        first = base[path.name]
        await path.warm([first, *range(first + 1, first + 1 + sum(levels))])
    sequential: dict[str, list[float]] = {path.name: [] for path in paths}
    for _ in range(rounds):
        for text in TEXTS:
            for path in paths:
                sequential[path.name].append(await path.turn(base[path.name], text))
    result: dict[str, Any] = {"sequential": {name: percentiles(values) for name, values in sequential.items()}}
    result["raw_sequential"] = sequential
    bursts: dict[str, dict[str, Any]] = {}
    offset = 1
    for level in levels:
        bursts[str(level)] = {}
        for path in paths:
            users = list(range(base[path.name] + offset, base[path.name] + offset + level))
            latencies, messages = await path.burst(users, BURST_TEXT)
            bursts[str(level)][path.name] = {
                **percentiles(latencies),
                "last_reply_s": round(max(latencies), 3),
                "messages": messages,
                "telegram_floor_s": round(messages / TELEGRAM_RATE, 3),
                "raw": latencies,
            }
        offset += level
    result["bursts"] = bursts
    return result
