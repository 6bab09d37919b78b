"""Tables of identity: citizens (the anagrafe), chat links, link codes, failed attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, utcnow


class Citizen(Base):
    """A person known to the comune, identified by the codice fiscale."""

    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_code: Mapped[str] = mapped_column(String(16), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The registered residence, as a certificate prints it.
    address: Mapped[str | None] = mapped_column(String(200))
    # The anagrafe's family (famiglia anagrafica) the citizen belongs to: stato di famiglia
    # lists its members, never whoever happens to live at the same address text.
    household_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Whether the chat reminds this citizen of payments falling due (the citizen chooses).
    tax_reminders: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel_links: Mapped[list[ChannelLink]] = relationship(back_populates="citizen")


class ChannelLink(Base):
    """A chat account (e.g. a Telegram user) proven to belong to a citizen."""

    __tablename__ = "channel_links"
    __table_args__ = (
        UniqueConstraint(
            "channel", "channel_user_id", name="uq_channel_links_channel_user"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen: Mapped[Citizen] = relationship(back_populates="channel_links")


class LinkCode(Base):
    """A one-time code the portal hands a citizen proven with SPID/CIE, to link a chat account."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised: upper case, without the dash the citizen sees (K7P2QX9M).
    code: Mapped[str] = mapped_column(String(16), unique=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    citizen: Mapped[Citizen] = relationship()


class FailedAttempt(Base):
    """A failed guess by a channel user (a wrong link code)."""

    __tablename__ = "failed_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
