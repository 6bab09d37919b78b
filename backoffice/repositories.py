"""One repository per aggregate: the only code that reads and writes the tables."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice import models, schemas
from backoffice.certificates import (
    CERTIFICATE_TITLES,
    CertificateContent,
    certificate_filename,
    new_verification_code,
    render_certificate,
)
from backoffice.deliveries import DeliveryRepository
from backoffice.errors import (
    CitizenNotFound,
    Conflict,
    IdempotencyKeyReused,
    InvalidData,
    InvalidTransition,
    LinkCodeExpired,
    LinkCodeInvalid,
    NotFound,
    NotLinked,
    PracticeNotFound,
    TooManyAttempts,
    UploadQuotaExceeded,
)
from backoffice.identity import ChannelUser, mask_fiscal_code, new_link_code
from backoffice.models import PracticeStatus
from backoffice.validation import check_practice_data

# Any constant works; it only has to be the same for every writer of the feed.
_EVENT_FEED_LOCK = 0x5E0C_FEED


class CounterServiceRepository:
    """Counter services (sportelli) and their opening hours."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self) -> list[schemas.CounterService]:
        rows = await self._session.scalars(
            select(models.CounterService).order_by(models.CounterService.code)
        )
        return [_counter_service(row) for row in rows]

    async def get(self, code: str) -> schemas.CounterService:
        row = await self._session.scalar(
            select(models.CounterService).where(models.CounterService.code == code)
        )
        if row is None:
            raise NotFound(f"counter service {code!r} does not exist")
        return _counter_service(row)


class PracticeTypeRepository:
    """The catalogue of pratica types."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self) -> list[schemas.PracticeType]:
        rows = await self._session.scalars(
            select(models.PracticeType).order_by(models.PracticeType.code)
        )
        return [_practice_type(row) for row in rows]

    async def get(self, code: str) -> schemas.PracticeType:
        row = await self._session.scalar(
            select(models.PracticeType).where(models.PracticeType.code == code)
        )
        if row is None:
            raise NotFound(f"practice type {code!r} does not exist")
        return _practice_type(row)


class EventRepository:
    """The append-only event feed."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(
        self,
        type: str,
        payload: dict[str, Any],
        citizen_id: int | None = None,
        channel_user: str | None = None,
    ) -> schemas.FeedEvent:
        """Add an event; it becomes visible to readers when the caller's transaction commits."""
        if self._session.get_bind().dialect.name == "postgresql":
            # Sequence values are handed out at insert but become visible at commit, so two
            # concurrent writers could commit ids out of order and a reader whose cursor
            # passed the larger id would never see the smaller one. Serialising writers until
            # commit keeps ids in commit order.
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_FEED_LOCK}
            )
        row = models.Event(
            type=type, payload=payload, citizen_id=citizen_id, channel_user=channel_user
        )
        self._session.add(row)
        await self._session.flush()
        if citizen_id is not None:
            recipients = (await self._recipients({citizen_id})).get(citizen_id, [])
        else:
            recipients = [channel_user] if channel_user else []
        # The outbox: what the bots must tell, written in the same transaction as the event.
        DeliveryRepository(self._session).add(row.id, recipients)
        return _feed_event(row, tuple(recipients))

    async def after(self, after: int, limit: int) -> schemas.EventPage:
        """Return up to `limit` events with id greater than `after`, oldest first."""
        rows = list(
            await self._session.scalars(
                select(models.Event)
                .where(models.Event.id > after)
                .order_by(models.Event.id)
                .limit(limit)
            )
        )
        recipients = await self._recipients(
            {row.citizen_id for row in rows if row.citizen_id is not None}
        )
        events = tuple(
            _feed_event(
                row,
                tuple(recipients.get(row.citizen_id, ()))
                if row.citizen_id is not None
                else ((row.channel_user,) if row.channel_user else ()),
            )
            for row in rows
        )
        return schemas.EventPage(
            events=events, last_id=events[-1].id if events else after
        )

    async def _recipients(self, citizen_ids: set[int]) -> dict[int, list[str]]:
        """The channel users linked to each citizen now (a link made later is told too)."""
        if not citizen_ids:
            return {}
        links = await self._session.scalars(
            select(models.ChannelLink)
            .where(models.ChannelLink.citizen_id.in_(citizen_ids))
            .order_by(models.ChannelLink.id)
        )
        recipients: dict[int, list[str]] = {}
        for link in links:
            recipients.setdefault(link.citizen_id, []).append(
                f"{link.channel}:{link.channel_user_id}"
            )
        return recipients


def _counter_service(row: models.CounterService) -> schemas.CounterService:
    return schemas.CounterService(
        code=row.code,
        name=row.name,
        description=row.description,
        location=row.location,
        slot_minutes=row.slot_minutes,
        desks=row.desks,
        opening_hours=tuple(
            schemas.OpeningHours(
                weekday=int(h["weekday"]), opens=h["opens"], closes=h["closes"]
            )
            for h in row.opening_hours
        ),
        requirements=tuple(str(item) for item in row.requirements or ()),
        fee_cents=row.fee_cents,
        fee_note=row.fee_note,
    )


def _practice_type(row: models.PracticeType) -> schemas.PracticeType:
    return schemas.PracticeType(
        code=row.code,
        name=row.name,
        description=row.description,
        fields=tuple(
            schemas.PracticeField(
                name=f["name"],
                label=f["label"],
                kind=f["kind"],
                required=bool(f.get("required", False)),
                choices=tuple(f.get("choices") or ()),
                question=str(f.get("question") or ""),
            )
            for f in row.fields
        ),
    )


def _feed_event(
    row: models.Event, recipients: tuple[str, ...] = ()
) -> schemas.FeedEvent:
    return schemas.FeedEvent(
        id=row.id,
        type=row.type,
        citizen_id=row.citizen_id,
        payload=row.payload,
        created_at=row.created_at,
        recipients=recipients,
    )


# --- identity -------------------------------------------------------------------------

LINK_CODE_VALIDITY = timedelta(minutes=15)
ATTEMPT_WINDOW = timedelta(minutes=15)
# Failed attempts a channel user may make in ATTEMPT_WINDOW, per kind of guess.
MAX_FAILED_ATTEMPTS = {"link": 5}


class IdentityRepository:
    """Citizens' link codes and the chat accounts linked to them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create_link_code(
        self, fiscal_code: str, now: datetime
    ) -> schemas.LinkCode:
        """Mint a one-time code for the citizen with this codice fiscale (the portal's part)."""
        citizen = await self._session.scalar(
            select(models.Citizen).where(
                models.Citizen.fiscal_code == fiscal_code.strip().upper()
            )
        )
        if citizen is None:
            raise CitizenNotFound("no citizen has this fiscal code")
        row = models.LinkCode(
            code=new_link_code(),
            citizen_id=citizen.id,
            created_at=now,
            expires_at=now + LINK_CODE_VALIDITY,
        )
        self._session.add(row)
        await self._session.flush()
        return schemas.LinkCode(code=row.code, expires_at=row.expires_at)

    async def check_attempts(
        self, channel_user: ChannelUser, kind: str, now: datetime
    ) -> None:
        """TooManyAttempts if this channel user failed too often lately."""
        since = now - ATTEMPT_WINDOW
        failures = list(
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
        limit = MAX_FAILED_ATTEMPTS[kind]
        if len(failures) >= limit:
            # Free again when enough of the counted failures leave the window.
            free_at = failures[len(failures) - limit] + ATTEMPT_WINDOW
            retry_after = max(1, int((free_at - now).total_seconds()) + 1)
            raise TooManyAttempts(
                "too many failed attempts, try again later", retry_after
            )

    async def record_failure(
        self, channel_user: ChannelUser, kind: str, now: datetime
    ) -> None:
        self._session.add(
            models.FailedAttempt(channel_user=str(channel_user), kind=kind, at=now)
        )
        # Old rows only ever count inside the window: drop them as we go.
        await self._session.execute(
            delete(models.FailedAttempt).where(
                models.FailedAttempt.channel_user == str(channel_user),
                models.FailedAttempt.at <= now - ATTEMPT_WINDOW,
            )
        )
        await self._session.flush()

    async def link(
        self, channel_user: ChannelUser, code: str, now: datetime
    ) -> schemas.LinkedCitizen:
        """Use a link code for this channel user; replaces any link it had to someone else."""
        row = await self._session.scalar(
            select(models.LinkCode).where(models.LinkCode.code == code)
        )
        if row is None:
            raise LinkCodeInvalid("no such link code")
        # One conditional update, so two chats racing for the same code cannot both win.
        used = await self._session.execute(
            update(models.LinkCode)
            .where(
                models.LinkCode.id == row.id,
                models.LinkCode.used_at.is_(None),
                models.LinkCode.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            raise LinkCodeExpired("the link code expired or was already used")
        link = await self._session.scalar(_link_query(channel_user))
        if link is None:
            link = models.ChannelLink(
                channel=channel_user.channel,
                channel_user_id=channel_user.user_id,
                citizen_id=row.citizen_id,
                linked_at=now,
            )
            self._session.add(link)
        else:
            link.citizen_id = row.citizen_id
            link.linked_at = now
        await self._session.execute(
            delete(models.FailedAttempt).where(
                models.FailedAttempt.channel_user == str(channel_user),
                models.FailedAttempt.kind == "link",
            )
        )
        await self._session.flush()
        citizen = await self._session.get_one(models.Citizen, row.citizen_id)
        return _linked_citizen(citizen)

    async def linked(self, channel_user: ChannelUser) -> schemas.LinkedCitizen | None:
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

    async def require_linked(self, channel_user: ChannelUser) -> schemas.LinkedCitizen:
        citizen = await self.linked(channel_user)
        if citizen is None:
            raise NotLinked()
        return citizen

    async def unlink(self, channel_user: ChannelUser) -> None:
        link = await self._session.scalar(_link_query(channel_user))
        if link is None:
            raise NotLinked()
        await self._session.delete(link)
        await self._session.flush()


def _link_query(channel_user: ChannelUser) -> Any:
    return select(models.ChannelLink).where(
        models.ChannelLink.channel == channel_user.channel,
        models.ChannelLink.channel_user_id == channel_user.user_id,
    )


def _linked_citizen(citizen: models.Citizen) -> schemas.LinkedCitizen:
    return schemas.LinkedCitizen(
        citizen_id=citizen.id,
        given_name=citizen.given_name,
        fiscal_code_masked=mask_fiscal_code(citizen.fiscal_code),
        tax_reminders=citizen.tax_reminders,
    )


# --- uploads --------------------------------------------------------------------------


# The quota counts what a citizen sent in the last day; a file that never became part of
# a pratica is deleted a day after it came (backoffice/housekeeping.py).
UPLOAD_QUOTA_WINDOW = timedelta(hours=24)
UNATTACHED_UPLOAD_LIFETIME = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class UploadQuota:
    """How much one citizen may upload in UPLOAD_QUOTA_WINDOW."""

    max_files: int
    max_mb: int

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024


class UploadRepository:
    """Files linked chats send, until and after they are attached to a pratica."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        channel_user: ChannelUser,
        filename: str,
        content_type: str,
        content: bytes,
        now: datetime,
        quota: UploadQuota,
    ) -> schemas.Upload:
        """Store a file of a linked chat; NotLinked, or UploadQuotaExceeded past the quota."""
        citizen = await IdentityRepository(self._session).require_linked(channel_user)
        await self._check_quota(citizen.citizen_id, len(content), now, quota)
        row = models.Upload(
            id=uuid.uuid4().hex,
            channel_user=str(channel_user),
            citizen_id=citizen.citizen_id,
            filename=filename,
            content_type=content_type,
            size=len(content),
            content=content,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return _upload(row)

    async def _check_quota(
        self, citizen_id: int, size: int, now: datetime, quota: UploadQuota
    ) -> None:
        if self._session.get_bind().dialect.name == "postgresql":
            # Two uploads of one citizen at once must not both fit in the last place.
            await self._session.execute(
                select(models.Citizen.id)
                .where(models.Citizen.id == citizen_id)
                .with_for_update()
            )
        since = now - UPLOAD_QUOTA_WINDOW
        sent = list(
            await self._session.execute(
                select(models.Upload.created_at, models.Upload.size)
                .where(
                    models.Upload.citizen_id == citizen_id,
                    models.Upload.created_at > since,
                )
                .order_by(models.Upload.created_at)
            )
        )
        files, used = len(sent), sum(row.size for row in sent)
        if files + 1 <= quota.max_files and used + size <= quota.max_bytes:
            return
        # Room comes back as the oldest uploads leave the window.
        retry_at = now + UPLOAD_QUOTA_WINDOW
        for created_at, old_size in sent:
            files, used = files - 1, used - old_size
            if files + 1 <= quota.max_files and used + size <= quota.max_bytes:
                retry_at = created_at + UPLOAD_QUOTA_WINDOW
                break
        raise UploadQuotaExceeded(
            max(1, int((retry_at - now).total_seconds()) + 1),
            quota.max_files,
            quota.max_mb,
        )


async def delete_unattached_uploads(session: AsyncSession, now: datetime) -> int:
    """Drop the files that are part of no pratica a day after they came; the caller commits."""
    deleted = await session.execute(
        delete(models.Upload).where(
            models.Upload.practice_id.is_(None),
            models.Upload.created_at <= now - UNATTACHED_UPLOAD_LIFETIME,
        )
    )
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]


def _upload(row: models.Upload) -> schemas.Upload:
    return schemas.Upload(
        upload_id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
    )


# --- practices ------------------------------------------------------------------------

ROME = ZoneInfo("Europe/Rome")
# Types a citizen may submit without a linked account.
ANONYMOUS_PRACTICE_TYPES = frozenset({"segnalazione"})
# Where a pratica may go from each status (the pratica lifecycle, README).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    PracticeStatus.PRESENTATA: frozenset(
        {
            PracticeStatus.IN_ISTRUTTORIA,
            PracticeStatus.RESPINTA,
            PracticeStatus.ARCHIVIATA,
        }
    ),
    PracticeStatus.IN_ISTRUTTORIA: frozenset(
        {
            PracticeStatus.INTEGRAZIONE_RICHIESTA,
            PracticeStatus.ACCOLTA,
            PracticeStatus.RESPINTA,
            PracticeStatus.ARCHIVIATA,
        }
    ),
    PracticeStatus.INTEGRAZIONE_RICHIESTA: frozenset(
        {
            PracticeStatus.IN_ISTRUTTORIA,
            PracticeStatus.RESPINTA,
            PracticeStatus.ARCHIVIATA,
        }
    ),
    PracticeStatus.ACCOLTA: frozenset({PracticeStatus.ARCHIVIATA}),
    PracticeStatus.RESPINTA: frozenset({PracticeStatus.ARCHIVIATA}),
}
# Statuses in which the office still reads what the citizen sends.
OPEN_STATUSES = frozenset(
    {
        PracticeStatus.PRESENTATA,
        PracticeStatus.IN_ISTRUTTORIA,
        PracticeStatus.INTEGRAZIONE_RICHIESTA,
    }
)
INTEGRATION_RECEIVED_NOTE = "Integrazione ricevuta"
CERTIFICATE_ISSUED_NOTE = "Certificato emesso dal servizio automatico."

RenderDetail = Callable[[schemas.PracticeDetail], schemas.JSONObject]


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


class PracticeRepository:
    """Pratiche: submission, the citizen's view, attachments and the office's transitions."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- submission --

    async def submit(
        self,
        channel_user: ChannelUser,
        key: str,
        practice_type: str,
        data: Any,
        now: datetime,
        render: RenderDetail,
        verify_url: Callable[[str], str],
        comune: str,
    ) -> tuple[int, schemas.JSONObject]:
        """File a pratica once per Idempotency-Key and commit; return (status, body).

        A retry, even one racing the first request, gets the first answer: the key's row is
        written first, and the loser of the race on its unique constraint reads the winner's.
        """
        idempotency = IdempotencyRepository(self._session)
        fingerprint = request_fingerprint({"practice_type": practice_type, "data": data})
        stored = await idempotency.stored_response(channel_user, key, fingerprint, now)
        if stored is not None:
            return stored

        ptype_row = await self._session.scalar(
            select(models.PracticeType).where(models.PracticeType.code == practice_type)
        )
        if ptype_row is None:
            raise InvalidData({"practice_type": "Questo tipo di pratica non esiste."})
        ptype = _practice_type(ptype_row)
        linked = await IdentityRepository(self._session).linked(channel_user)
        if linked is None and ptype.code not in ANONYMOUS_PRACTICE_TYPES:
            raise NotLinked()
        citizen = (
            await self._session.get_one(models.Citizen, linked.citizen_id)
            if linked is not None
            else None
        )
        if (
            ptype.code in CERTIFICATE_TITLES
            and citizen is not None
            and isinstance(data, dict)
            and not data.get("subject_fiscal_code")
        ):
            # The chat never holds the full codice fiscale: by default, a certificate is
            # the linked citizen's own.
            data = {**data, "subject_fiscal_code": citizen.fiscal_code}
        checked = check_practice_data(ptype.fields, data)
        uploads = await self._owned_uploads(
            channel_user, checked.uploads, checked.errors
        )
        if ptype.code in CERTIFICATE_TITLES:
            _check_certificate_subject(citizen, ptype.code, checked.data, checked.errors)
        if checked.errors:
            raise InvalidData(checked.errors)

        record = await idempotency.reserve(channel_user, key, fingerprint, now)
        if record is None:
            # A concurrent request with the same key got there first and has committed.
            stored = await idempotency.stored_response(
                channel_user, key, fingerprint, now
            )
            if stored is None:  # pragma: no cover - the winner rolled back meanwhile
                raise Conflict("retry the request")
            return stored

        year = now.astimezone(ROME).year
        number = await self._next_protocol_number(year)
        practice = models.Practice(
            protocol_year=year,
            protocol_number=number,
            type_id=ptype_row.id,
            citizen_id=citizen.id if citizen is not None else None,
            submitted_by=str(channel_user),
            status=PracticeStatus.PRESENTATA.value,
            data=checked.data,
            created_at=now,
            updated_at=now,
        )
        self._session.add(practice)
        await self._session.flush()
        self._session.add(
            models.PracticeHistory(
                practice_id=practice.id, status=PracticeStatus.PRESENTATA.value, at=now
            )
        )
        for upload in uploads:
            upload.practice_id = practice.id
        if ptype.code in CERTIFICATE_TITLES and citizen is not None:
            await self._issue_certificate(
                practice, ptype.code, citizen, checked.data, now, verify_url, comune
            )
        await self._session.flush()

        detail = await self.detail(practice)
        body = render(detail)
        record.status_code = 201
        record.response = body
        await EventRepository(self._session).append(
            "practice_submitted",
            {
                "protocol_number": detail.summary.protocol_number,
                "practice_type": ptype.code,
                "practice_type_name": ptype.name,
                "status": detail.summary.status,
                "status_label": body["status_label"],
                "next_step": body["next_step"],
            },
            citizen_id=practice.citizen_id,
            channel_user=None if citizen is not None else str(channel_user),
        )
        await self._session.commit()
        return 201, body

    async def _owned_uploads(
        self,
        channel_user: ChannelUser,
        references: dict[str, list[str]],
        errors: dict[str, str],
    ) -> list[models.Upload]:
        found: list[models.Upload] = []
        for name, ids in references.items():
            rows = {
                row.id: row
                for row in await self._session.scalars(
                    select(models.Upload).where(
                        models.Upload.id.in_(ids),
                        models.Upload.channel_user == str(channel_user),
                    )
                )
            }
            if len(rows) != len(ids):
                errors[name] = "Non trovo questo file: mandamelo di nuovo qui in chat."
            elif any(row.practice_id is not None for row in rows.values()):
                errors[name] = "Questo file è già allegato a un'altra pratica."
            else:
                found.extend(rows.values())
        return found

    async def _next_protocol_number(self, year: int) -> int:
        """The next protocol number of the year, unique even under concurrent submissions.

        The counter row is created from the highest number already used (seeded pratiche
        have none), then incremented by one UPDATE: PostgreSQL's row lock and SQLite's
        single writer make the increments one at a time.
        """
        counter = models.ProtocolCounter
        insert = (
            postgresql_insert
            if self._session.get_bind().dialect.name == "postgresql"
            else sqlite_insert
        )
        await self._session.execute(
            insert(counter)
            .from_select(
                ["year", "last_number"],
                select(
                    literal(year),
                    func.coalesce(func.max(models.Practice.protocol_number), 0),
                ).where(models.Practice.protocol_year == year),
            )
            .on_conflict_do_nothing(index_elements=["year"])
        )
        number = await self._session.scalar(
            update(counter)
            .where(counter.year == year)
            .values(last_number=counter.last_number + 1)
            .returning(counter.last_number)
            .execution_options(synchronize_session=False)
        )
        assert number is not None
        return int(number)

    async def _issue_certificate(
        self,
        practice: models.Practice,
        practice_type: str,
        citizen: models.Citizen,
        data: dict[str, Any],
        now: datetime,
        verify_url: Callable[[str], str],
        comune: str,
    ) -> None:
        protocol = practice.protocol
        assert protocol is not None and citizen.address is not None
        code = new_verification_code()
        household: tuple[str, ...] = ()
        if practice_type == "stato_famiglia":
            # By the anagrafe's family, not the address: two families at one address text
            # are two, one family is one however its address is spelled.
            assert citizen.household_id is not None
            members = await self._session.scalars(
                select(models.Citizen)
                .where(models.Citizen.household_id == citizen.household_id)
                .order_by(models.Citizen.id)
            )
            household = tuple(f"{m.given_name} {m.family_name}" for m in members)
        pdf = render_certificate(
            CertificateContent(
                comune=comune,
                practice_type=practice_type,
                given_name=citizen.given_name,
                family_name=citizen.family_name,
                fiscal_code=citizen.fiscal_code,
                address=citizen.address,
                use=str(data.get("use", "")),
                issued_at=now,
                protocol=protocol,
                verification_code=code,
                verify_url=verify_url(code),
                household=household,
            )
        )
        self._session.add(
            models.Document(
                practice_id=practice.id,
                filename=certificate_filename(practice_type, protocol),
                content_type="application/pdf",
                content=pdf,
                verification_code=code,
                created_at=now,
            )
        )
        practice.status = PracticeStatus.ACCOLTA.value
        self._session.add(
            models.PracticeHistory(
                practice_id=practice.id,
                status=PracticeStatus.ACCOLTA.value,
                note=CERTIFICATE_ISSUED_NOTE,
                at=now,
            )
        )

    # -- the citizen's view --

    async def list_for(self, citizen_id: int) -> list[schemas.PracticeSummary]:
        """A citizen's protocolled pratiche, newest first."""
        rows = await self._session.scalars(
            select(models.Practice)
            .join(models.PracticeType)
            .where(
                models.Practice.citizen_id == citizen_id,
                models.Practice.protocol_number.is_not(None),
            )
            .order_by(models.Practice.created_at.desc(), models.Practice.id.desc())
        )
        return [await self._summary(row) for row in rows]

    async def visible(
        self, year: int, number: int, channel_user: ChannelUser
    ) -> models.Practice:
        """The pratica if this chat may see it: the chat linked to its owner, and for an
        anonymous segnalazione the chat that sent it.

        NotLinked for any other chat linked to nobody, whatever the number (protocols are
        sequential and codici fiscali computable: knowing both proves nothing); for a linked
        chat, PracticeNotFound, as if it did not exist.
        """
        practice = await self._by_protocol(year, number)
        if (
            practice is not None
            and practice.citizen_id is None
            and practice.submitted_by == str(channel_user)
        ):
            return practice
        linked = await IdentityRepository(self._session).require_linked(channel_user)
        if practice is not None and practice.citizen_id == linked.citizen_id:
            return practice
        raise PracticeNotFound()

    async def attach(
        self,
        practice: models.Practice,
        channel_user: ChannelUser,
        upload_id: str,
        now: datetime,
    ) -> schemas.StatusChange | None:
        """Attach an upload; an integration request goes back to in istruttoria (returned)."""
        errors: dict[str, str] = {}
        owned = await self._owned_uploads(
            channel_user, {"upload_id": [upload_id]}, errors
        )
        upload = owned[0] if owned else None
        if upload is None:
            already = await self._session.scalar(
                select(models.Upload).where(
                    models.Upload.id == upload_id,
                    models.Upload.channel_user == str(channel_user),
                    models.Upload.practice_id == practice.id,
                )
            )
            if already is not None:
                return None  # attached before: a retry, nothing to do
            raise InvalidData(errors)
        if practice.status not in OPEN_STATUSES:
            raise InvalidTransition(
                f"a pratica that is {practice.status} takes no more documents"
            )
        upload.practice_id = practice.id
        change = None
        if practice.status == PracticeStatus.INTEGRAZIONE_RICHIESTA:
            change = await self._move(
                practice,
                PracticeStatus.IN_ISTRUTTORIA,
                INTEGRATION_RECEIVED_NOTE,
                None,
                now,
            )
        else:
            practice.updated_at = now
        await self._session.flush()
        return change

    # -- the office's side --

    async def transition(
        self,
        year: int,
        number: int,
        to: str,
        note: str | None,
        actor: str | None,
        now: datetime,
    ) -> schemas.StatusChange:
        """Move a pratica along its lifecycle and append the event the citizen is told by."""
        practice = await self._by_protocol(year, number)
        if practice is None:
            raise PracticeNotFound()
        if to not in ALLOWED_TRANSITIONS.get(practice.status, frozenset()):
            raise InvalidTransition(
                f"a pratica cannot go from {practice.status} to {to}"
            )
        if to == PracticeStatus.INTEGRAZIONE_RICHIESTA and not (note and note.strip()):
            raise InvalidData(
                {"note": "Scrivi quali documenti mancano: il cittadino lo leggerà."}
            )
        change = await self._move(practice, to, note, actor, now)
        await EventRepository(self._session).append(
            "practice_status_changed",
            change.payload(),
            citizen_id=practice.citizen_id,
            channel_user=practice.submitted_by if practice.citizen_id is None else None,
        )
        return change

    async def staff_list(self, limit: int = 200) -> list[schemas.PracticeSummary]:
        rows = await self._session.scalars(
            select(models.Practice)
            .where(models.Practice.protocol_number.is_not(None))
            .order_by(models.Practice.updated_at.desc(), models.Practice.id.desc())
            .limit(limit)
        )
        return [await self._summary(row) for row in rows]

    async def _move(
        self,
        practice: models.Practice,
        to: str,
        note: str | None,
        actor: str | None,
        now: datetime,
    ) -> schemas.StatusChange:
        from_status = practice.status
        # Conditional on the status read, so two clerks acting at once cannot both move it.
        moved = await self._session.execute(
            update(models.Practice)
            .where(
                models.Practice.id == practice.id, models.Practice.status == from_status
            )
            .values(status=to, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidTransition("the pratica changed meanwhile: reload and retry")
        await self._session.refresh(practice)
        note = note.strip() if note and note.strip() else None
        self._session.add(
            models.PracticeHistory(
                practice_id=practice.id, status=to, note=note, actor=actor, at=now
            )
        )
        await self._session.flush()
        return schemas.StatusChange(
            detail=await self.detail(practice),
            from_status=from_status,
            to_status=to,
            note=note,
        )

    # -- reading --

    async def _by_protocol(self, year: int, number: int) -> models.Practice | None:
        return await self._session.scalar(
            select(models.Practice).where(
                models.Practice.protocol_year == year,
                models.Practice.protocol_number == number,
            )
        )

    async def _summary(self, practice: models.Practice) -> schemas.PracticeSummary:
        ptype = await self._session.get_one(models.PracticeType, practice.type_id)
        assert practice.protocol is not None
        return schemas.PracticeSummary(
            protocol_number=practice.protocol,
            practice_type=ptype.code,
            practice_type_name=ptype.name,
            status=practice.status,
            created_at=practice.created_at,
            updated_at=practice.updated_at,
        )

    async def detail(self, practice: models.Practice) -> schemas.PracticeDetail:
        history = list(
            await self._session.scalars(
                select(models.PracticeHistory)
                .where(models.PracticeHistory.practice_id == practice.id)
                .order_by(models.PracticeHistory.at, models.PracticeHistory.id)
            )
        )
        document = await self._session.scalar(
            select(models.Document).where(models.Document.practice_id == practice.id)
        )
        attachments = await self._session.scalars(
            select(models.Upload)
            .where(models.Upload.practice_id == practice.id)
            .order_by(models.Upload.created_at, models.Upload.id)
        )
        requested = None
        if practice.status == PracticeStatus.INTEGRAZIONE_RICHIESTA:
            requested = next(
                (
                    entry.note
                    for entry in reversed(history)
                    if entry.status == PracticeStatus.INTEGRAZIONE_RICHIESTA
                ),
                None,
            )
        return schemas.PracticeDetail(
            summary=await self._summary(practice),
            history=tuple(
                schemas.HistoryEntry(status=entry.status, note=entry.note, at=entry.at)
                for entry in history
            ),
            requested_documents=requested,
            document=(
                schemas.PracticeDocument(
                    document_id=document.id,
                    filename=document.filename,
                    verification_code=document.verification_code,
                )
                if document is not None
                else None
            ),
            attachments=tuple(_upload(row) for row in attachments),
        )


def _check_certificate_subject(
    citizen: models.Citizen | None,
    practice_type: str,
    data: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A certificate is issued at once only to its own intestatario, with a known residence
    (and, for stato di famiglia, a known family)."""
    subject = data.get("subject_fiscal_code")
    if citizen is None or subject is None or "subject_fiscal_code" in errors:
        return
    if subject != citizen.fiscal_code:
        errors["subject_fiscal_code"] = (
            "Da qui puoi chiedere solo certificati intestati a te: per un'altra persona "
            "rivolgiti allo sportello anagrafe."
        )
    elif not citizen.address:
        errors["subject_fiscal_code"] = (
            "Non trovo la tua residenza nell'anagrafe: chiedi il certificato allo sportello."
        )
    elif practice_type == "stato_famiglia" and not citizen.household_id:
        errors["subject_fiscal_code"] = (
            "Non trovo la tua famiglia nell'anagrafe: chiedi lo stato di famiglia allo "
            "sportello anagrafe."
        )


# --- documents ------------------------------------------------------------------------


class DocumentRepository:
    """Documents the comune issued: served by capability URL, checked by verification code."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def file(self, document_id: int) -> schemas.StoredFile:
        row = await self._session.get(models.Document, document_id)
        if row is None:
            raise NotFound("no such file")
        return schemas.StoredFile(
            filename=row.filename, content_type=row.content_type, content=row.content
        )

    async def verify(self, code: str) -> schemas.DocumentVerification:
        row = await self._session.scalar(
            select(models.Document).where(
                models.Document.verification_code == code.strip().upper()
            )
        )
        if row is None:
            raise NotFound("no document has this verification code")
        practice = await self._session.get_one(models.Practice, row.practice_id)
        ptype = await self._session.get_one(models.PracticeType, practice.type_id)
        assert practice.protocol is not None
        return schemas.DocumentVerification(
            practice_type_name=ptype.name,
            protocol_number=practice.protocol,
            issued_at=row.created_at,
        )
