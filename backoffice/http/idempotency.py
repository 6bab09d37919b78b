"""Idempotency-Key at the edge: the first answer to a creating request, stored and given again.

A retry of the same request under the same key gets the stored answer; another request
under a used key is refused (IdempotencyKeyReused). The record is written before the work it
guards, in the same unit of work, so two racing retries cannot both do it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import schemas
from backoffice.db import models
from backoffice.errors import Conflict, InvalidRequest
from backoffice.identity.domain import ChannelUser

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 200


def idempotency_key(request: web.Request, required: bool) -> str | None:
    """The request's Idempotency-Key; InvalidRequest when too long, or missing and required."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER, "").strip() or None
    if required and key is None or key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        if required:
            raise InvalidRequest(
                f"the {IDEMPOTENCY_KEY_HEADER} header is required (at most {MAX_IDEMPOTENCY_KEY} characters)"
            )
        raise InvalidRequest(
            f"the {IDEMPOTENCY_KEY_HEADER} header has at most {MAX_IDEMPOTENCY_KEY} characters"
        )
    return key


def request_fingerprint(request: Any) -> str:
    """A fingerprint of a request's content, to tell a retry from another request under the same key."""
    canonical = json.dumps(
        request,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# How long the first answer to an Idempotency-Key is given again: a retry comes within
# seconds or minutes, and a key older than this is a new request (its record is dropped).
IDEMPOTENCY_RETENTION = timedelta(hours=24)


class IdempotencyRepository:
    """Idempotency-Key records: the first answer to a creating request, given again to its retries."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def stored_response(
        self, channel_user: ChannelUser, key: str, fingerprint: str, now: datetime
    ) -> tuple[int, schemas.JSONObject] | None:
        """The answer already given to this (channel user, Idempotency-Key), if any.

        An answer older than IDEMPOTENCY_RETENTION is forgotten here (the caller commits).
        """
        record = await self._session.scalar(
            select(models.IdempotencyRecord).where(
                models.IdempotencyRecord.channel_user == str(channel_user),
                models.IdempotencyRecord.key == key,
            )
        )
        if record is None:
            return None
        if record.created_at <= now - IDEMPOTENCY_RETENTION:
            await self.forget(channel_user, key)
            return None
        if record.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request"
            )
        if record.status_code is None or record.response is None:
            raise Conflict(
                "the request with this Idempotency-Key is still being processed"
            )
        return record.status_code, record.response

    async def reserve(
        self, channel_user: ChannelUser, key: str, fingerprint: str, now: datetime
    ) -> models.IdempotencyRecord | None:
        """Write the key's record before the work it guards; the caller fills in the answer.

        None, with the transaction rolled back, when a concurrent request with the same key
        wrote it first: that request's answer is then in stored_response.
        """
        record = models.IdempotencyRecord(
            channel_user=str(channel_user),
            key=key,
            request_hash=fingerprint,
            created_at=now,
        )
        self._session.add(record)
        try:
            await self._session.flush()
        except IntegrityError:
            await self._session.rollback()
            return None
        return record

    async def forget(self, channel_user: ChannelUser, key: str) -> None:
        """Drop the key's record: the next request with it is a new one (the caller commits)."""
        await self._session.execute(
            delete(models.IdempotencyRecord).where(
                models.IdempotencyRecord.channel_user == str(channel_user),
                models.IdempotencyRecord.key == key,
            )
        )
        await self._session.flush()


async def delete_expired_idempotency_records(session: AsyncSession, now: datetime) -> int:
    """Drop the answers older than IDEMPOTENCY_RETENTION; the caller commits."""
    deleted = await session.execute(
        delete(models.IdempotencyRecord).where(
            models.IdempotencyRecord.created_at <= now - IDEMPOTENCY_RETENTION
        )
    )
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]


# --- errors -------------------------------------------------------------------------


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was already used for a different request."""
