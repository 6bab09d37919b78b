"""Identity use cases: mint a link code, link a chat with it, tell who a chat is, unlink.

Each use case owns its unit of work and commits it. `require_linked` is the check the other
areas' use cases make, inside their own unit of work, before acting for a chat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.db import UnitOfWork
from backoffice.identity import domain
from backoffice.identity.domain import (
    ChannelUser,
    CitizenNotFound,
    LinkCodeExpired,
    LinkCodeInvalid,
    NotLinked,
)
from backoffice.identity.repository import IdentityRepository
from backoffice.identity.schemas import LinkCode, LinkedCitizen

LINK = "link"


async def require_linked(session: AsyncSession, channel_user: ChannelUser) -> LinkedCitizen:
    """The citizen the chat is linked to; NotLinked if none."""
    citizen = await IdentityRepository(session).linked(channel_user)
    if citizen is None:
        raise NotLinked()
    return citizen


async def create_link_code(uow: UnitOfWork, fiscal_code: str, now: datetime) -> LinkCode:
    """Mint a one-time code for the citizen with this codice fiscale (the portal's part)."""
    async with uow:
        identity = IdentityRepository(uow.session)
        citizen_id = await identity.citizen_id(fiscal_code)
        if citizen_id is None:
            raise CitizenNotFound("no citizen has this fiscal code")
        code = await identity.add_link_code(
            domain.new_link_code(), citizen_id, now, now + domain.LINK_CODE_VALIDITY
        )
        await uow.commit()
    return code


async def link_chat(uow: UnitOfWork, channel_user: ChannelUser, code: str, now: datetime) -> LinkedCitizen:
    """Use a link code for this chat; a wrong or spent code counts as a failed attempt."""
    async with uow:
        identity = IdentityRepository(uow.session)
        domain.check_attempts(LINK, await identity.failures_since(channel_user, LINK, now - domain.ATTEMPT_WINDOW), now)
        try:
            found = await identity.link_code_citizen(domain.normalise_link_code(code))
            if found is None:
                raise LinkCodeInvalid("no such link code")
            code_id, citizen_id = found
            if not await identity.use_link_code(code_id, now):
                raise LinkCodeExpired("the link code expired or was already used")
        except (LinkCodeInvalid, LinkCodeExpired):
            await uow.rollback()
            # Old rows only ever count inside the window: drop them as we go.
            await identity.add_failure(channel_user, LINK, now, now - domain.ATTEMPT_WINDOW)
            await uow.commit()
            raise
        citizen = await identity.set_link(channel_user, citizen_id, now)
        await identity.clear_failures(channel_user, LINK)
        await uow.commit()
    return citizen


async def who_is(uow: UnitOfWork, channel_user: ChannelUser) -> LinkedCitizen:
    """Who the chat is linked to (name and masked codice fiscale); NotLinked if nobody."""
    async with uow:
        return await require_linked(uow.session, channel_user)


async def unlink(uow: UnitOfWork, channel_user: ChannelUser) -> None:
    """Unlink the chat; NotLinked if it was not linked."""
    async with uow:
        if not await IdentityRepository(uow.session).delete_link(channel_user):
            raise NotLinked()
        await uow.commit()
