"""Identity rows <-> domain objects: citizens, link codes, chat links, failed attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.db import models
from backoffice.identity.domain import ChannelUser, mask_fiscal_code
from backoffice.identity.schemas import LinkCode, LinkedCitizen


class IdentityRepository:
    """Citizens' link codes and the chat accounts linked to them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def citizen_id(self, fiscal_code: str) -> int | None:
        """The citizen with this codice fiscale (any case, any spaces around), if any."""
        return await self._session.scalar(
            select(models.Citizen.id).where(models.Citizen.fiscal_code == fiscal_code.strip().upper())
        )

    async def add_link_code(
        self, code: str, citizen_id: int, now: datetime, expires_at: datetime
    ) -> LinkCode:
        row = models.LinkCode(code=code, citizen_id=citizen_id, created_at=now, expires_at=expires_at)
        self._session.add(row)
        await self._session.flush()
        return LinkCode(code=row.code, expires_at=row.expires_at)

    async def failures_since(self, channel_user: ChannelUser, kind: str, since: datetime) -> list[datetime]:
        """When this channel user failed at `kind` after `since`, oldest first."""
        return list(
            await self._session.scalars(
                select(models.FailedAttempt.at)
                .where(
                    models.FailedAttempt.channel_user == str(channel_user),
                    models.FailedAttempt.kind == kind,
                    models.FailedAttempt.at > since,
                )
                .order_by(models.FailedAttempt.at)
            )
        )

    async def add_failure(self, channel_user: ChannelUser, kind: str, now: datetime, forget_before: datetime) -> None:
        """Write a failed attempt, dropping this user's ones at or before `forget_before`."""
        self._session.add(models.FailedAttempt(channel_user=str(channel_user), kind=kind, at=now))
        await self._session.execute(
            delete(models.FailedAttempt).where(
                models.FailedAttempt.channel_user == str(channel_user),
                models.FailedAttempt.at <= forget_before,
            )
        )
        await self._session.flush()

    async def clear_failures(self, channel_user: ChannelUser, kind: str) -> None:
        await self._session.execute(
            delete(models.FailedAttempt).where(
                models.FailedAttempt.channel_user == str(channel_user),
                models.FailedAttempt.kind == kind,
            )
        )

    async def link_code_citizen(self, code: str) -> tuple[int, int] | None:
        """(link code id, citizen id) of the code, used or not, if it exists."""
        row = await self._session.scalar(select(models.LinkCode).where(models.LinkCode.code == code))
        return (row.id, row.citizen_id) if row is not None else None

    async def use_link_code(self, code_id: int, now: datetime) -> bool:
        """Mark the code used, if unused and unexpired: one conditional update, so two chats
        racing for the same code cannot both win."""
        used = await self._session.execute(
            update(models.LinkCode)
            .where(
                models.LinkCode.id == code_id,
                models.LinkCode.used_at.is_(None),
                models.LinkCode.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return used.rowcount == 1  # type: ignore[attr-defined]

    async def set_link(self, channel_user: ChannelUser, citizen_id: int, now: datetime) -> LinkedCitizen:
        """Link the chat to the citizen, replacing any link it had to someone else."""
        link = await self._session.scalar(_link_query(channel_user))
        if link is None:
            link = models.ChannelLink(
                channel=channel_user.channel,
                channel_user_id=channel_user.user_id,
                citizen_id=citizen_id,
                linked_at=now,
            )
            self._session.add(link)
        else:
            link.citizen_id = citizen_id
            link.linked_at = now
        await self._session.flush()
        return _linked_citizen(await self._session.get_one(models.Citizen, citizen_id))

    async def linked(self, channel_user: ChannelUser) -> LinkedCitizen | None:
        """The citizen this channel user is linked to, if any."""
        citizen = await self._session.scalar(
            select(models.Citizen)
            .join(models.ChannelLink)
            .where(
                models.ChannelLink.channel == channel_user.channel,
                models.ChannelLink.channel_user_id == channel_user.user_id,
            )
        )
        return _linked_citizen(citizen) if citizen is not None else None

    async def delete_link(self, channel_user: ChannelUser) -> bool:
        """Drop the chat's link; False if it had none."""
        link = await self._session.scalar(_link_query(channel_user))
        if link is None:
            return False
        await self._session.delete(link)
        await self._session.flush()
        return True


def _link_query(channel_user: ChannelUser) -> Select[Any]:
    return select(models.ChannelLink).where(
        models.ChannelLink.channel == channel_user.channel,
        models.ChannelLink.channel_user_id == channel_user.user_id,
    )


def _linked_citizen(citizen: models.Citizen) -> LinkedCitizen:
    return LinkedCitizen(
        citizen_id=citizen.id,
        given_name=citizen.given_name,
        fiscal_code_masked=mask_fiscal_code(citizen.fiscal_code),
        tax_reminders=citizen.tax_reminders,
    )
