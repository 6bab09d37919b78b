"""The bot's shared state in its database: the meaning of each inline keyboard's buttons and
each citizen's display choice, so that any bot replica answers any update and a restart
(or `kill -9`) loses neither.

The same database as the handoff tickets (`HANDOFF_DATABASE_URL`, or the SQLite file
`handoff.db` in BOT_STATE_DIR): tables `bot_keyboards` and `bot_user_data`, created at start like the handoff
tables. Values are JSON, buttons as a named kind of button and its fields: nothing is
unpickled from the database.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import BigInteger, Float, String, Text, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.announcement_composer import ComposerAction
from bot.handoff import CitizenAction, StaffAction
from bot.render import ButtonChoice
from bot.simple_mode import DisplayChoice
from sportello.dblock import exclusive
from sportello.sqlite import tune

logger = logging.getLogger(__name__)

# What a button may stand for: these kinds, or plain JSON values. Anything else is refused.
BUTTON_KINDS: dict[str, type] = {
    kind.__name__: kind for kind in (ButtonChoice, StaffAction, CitizenAction, DisplayChoice, ComposerAction)
}
# A keyboard is saved many times a minute; the oldest beyond the store's size go every so often.
_PRUNE_EVERY = 100


class Base(DeclarativeBase):
    pass


class KeyboardRow(Base):
    __tablename__ = "bot_keyboards"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    used_at: Mapped[float] = mapped_column(Float, index=True)
    buttons: Mapped[str] = mapped_column(Text)


class UserDataRow(Base):
    __tablename__ = "bot_user_data"

    # Telegram's ids take up to 52 bits.
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)


def encode_button(value: object) -> Any:
    """A button's meaning as JSON: {"kind": …, "fields": {…}} or {"value": …}."""
    kind = type(value).__name__
    if (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and BUTTON_KINDS.get(kind) is type(value)
    ):
        return {"kind": kind, "fields": dataclasses.asdict(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return {"value": value}
    raise TypeError(f"a button cannot stand for a {kind}")


def decode_button(stored: Mapping[str, Any]) -> object:
    if "kind" in stored:
        return BUTTON_KINDS[stored["kind"]](**stored["fields"])
    return stored["value"]


def encode_buttons(buttons: Mapping[str, object]) -> str:
    return json.dumps({key: encode_button(value) for key, value in buttons.items()}, ensure_ascii=False)


def decode_buttons(text: str) -> dict[str, object]:
    return {key: decode_button(value) for key, value in json.loads(text).items()}


class BotStateStore:
    """Keyboards and user data in SQL; one engine, the schema made once at first use."""

    def __init__(self, url: str, keyboards_kept: int) -> None:
        self._engine: AsyncEngine = tune(create_async_engine(url, pool_pre_ping=True))
        self.keyboards_kept = keyboards_kept
        self._prepared = False
        self._saves = 0

    async def prepare(self) -> None:
        if self._prepared:
            return
        async with exclusive(self._engine, "sportello:bot-state-schema"), self._engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        self._prepared = True
        await self.prune()

    async def close(self) -> None:
        await self._engine.dispose()

    def _upsert(
        self, table: type[Base], values: list[dict[str, Any]], key: str, columns: Iterable[str]
    ) -> Any:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).values(values)
        return statement.on_conflict_do_update(
            index_elements=[key], set_={column: statement.excluded[column] for column in columns}
        )

    async def save_keyboards(self, keyboards: Iterable[tuple[str, float, Mapping[str, object]]]) -> None:
        """Save keyboards (uuid, last use, buttons) before Telegram shows them."""
        rows = [
            {"uuid": uuid, "used_at": used, "buttons": encode_buttons(buttons)}
            for uuid, used, buttons in keyboards
        ]
        if not rows:
            return
        await self.prepare()
        async with self._engine.begin() as connection:
            await connection.execute(self._upsert(KeyboardRow, rows, "uuid", ("used_at", "buttons")))
        self._saves += 1
        if self._saves % _PRUNE_EVERY == 0:
            await self.prune()

    async def keyboard(self, uuid: str) -> dict[str, object] | None:
        """The buttons of a keyboard shown by any replica, or None when it is unknown or gone."""
        await self.prepare()
        async with self._engine.connect() as connection:
            text = (
                await connection.execute(select(KeyboardRow.buttons).where(KeyboardRow.uuid == uuid))
            ).scalar()
        return None if text is None else decode_buttons(text)

    async def touch(self, uuid: str) -> None:
        """A button of this keyboard was pressed: it is among the last to go."""
        await self.prepare()
        async with self._engine.begin() as connection:
            await connection.execute(
                update(KeyboardRow).where(KeyboardRow.uuid == uuid).values(used_at=time.time())
            )

    async def prune(self) -> int:
        """Keep the `keyboards_kept` keyboards used last, as each replica's cache does."""
        async with self._engine.begin() as connection:
            oldest_kept = (
                await connection.execute(
                    select(KeyboardRow.used_at)
                    .order_by(KeyboardRow.used_at.desc())
                    .offset(self.keyboards_kept - 1)
                    .limit(1)
                )
            ).scalar()
            if oldest_kept is None:
                return 0
            result = await connection.execute(delete(KeyboardRow).where(KeyboardRow.used_at < oldest_kept))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def user_data(self, user_id: int) -> dict[str, Any] | None:
        await self.prepare()
        async with self._engine.connect() as connection:
            text = (
                await connection.execute(select(UserDataRow.data).where(UserDataRow.user_id == user_id))
            ).scalar()
        return None if text is None else dict(json.loads(text))

    async def save_user_data(self, user_id: int, data: Mapping[str, Any]) -> None:
        await self.prepare()
        row = {"user_id": user_id, "data": json.dumps(dict(data), ensure_ascii=False)}
        async with self._engine.begin() as connection:
            await connection.execute(self._upsert(UserDataRow, [row], "user_id", ("data",)))

    async def drop_user_data(self, user_id: int) -> None:
        await self.prepare()
        async with self._engine.begin() as connection:
            await connection.execute(delete(UserDataRow).where(UserDataRow.user_id == user_id))
