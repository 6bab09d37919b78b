"""Tables every area writes: the event feed and its outbox, Idempotency-Key answers, job leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.db.models.base import Base, EventId, JSONDocument, utcnow


class Event(Base):
    """One entry of the append-only event feed the bot reads with a cursor."""

    __tablename__ = "events"
    # Without AUTOINCREMENT SQLite may reuse the id of a deleted last row, and a reader's
    # cursor would then skip the new event.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A recipient of its own for events without a citizen (an anonymous segnalazione).
    channel_user: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One notice to send: an event for one chat account, claimed by a bot with a lease.

    Written with the event, in its transaction, for the accounts linked at that moment, so a
    bot that starts with nothing has only what happened after the link to tell, never the past.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient"),
        CheckConstraint("status IN ('pending', 'sent', 'dead')", name="delivery_status"),
        Index("ix_deliveries_due", "status", "available_at"),
        Index("ix_deliveries_recipient", "recipient", "status"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # "telegram:123": the channel, then the account on it.
    recipient: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # Higher first: an alert of protezione civile goes before anything else queued.
    priority: Mapped[int] = mapped_column(default=0)
    # When it may be claimed (again): now for a new one, the lease's end for a claimed one,
    # the backoff's end after a failure.
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()


class IdempotencyRecord(Base):
    """The answer given to one creating POST, so a retry gets it again instead of a duplicate."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint(
            "channel_user", "key", name="uq_idempotency_keys_channel_user_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the request, so the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobLease(Base):
    """Which back-office process runs a periodic job, until when.

    Every replica runs the same job loop; before each run it takes this row with one
    conditional write, so across replicas each job runs once per interval.
    """

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(96))
    expires_at: Mapped[datetime]
    runs: Mapped[int] = mapped_column(default=0)
