"""Pratiche use cases: the catalogue, an upload, submission (once per Idempotency-Key, a
certificate issued at once), the citizen's view, an attachment, the office's transitions, a
document and its verification. Each owns its unit of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from backoffice.db import UnitOfWork, models
from backoffice.db.models import PracticeStatus
from backoffice.errors import Conflict, InvalidTransition
from backoffice.events.repository import EventRepository
from backoffice.http.idempotency import IdempotencyRepository, request_fingerprint
from backoffice.identity.domain import ChannelUser, NotLinked
from backoffice.identity.repository import IdentityRepository
from backoffice.identity.services import require_linked
from backoffice.practices import domain
from backoffice.practices.certificates import (
    CertificateContent,
    certificate_filename,
    new_verification_code,
    render_certificate,
)
from backoffice.practices.domain import InvalidData, PracticeNotFound, UploadQuotaExceeded
from backoffice.practices.repository import (
    DocumentRepository,
    PracticeRepository,
    PracticeTypeRepository,
    UploadRepository,
    practice_type,
)
from backoffice.practices.schemas import (
    DocumentVerification,
    PracticeDetail,
    PracticeSummary,
    PracticeType,
    StatusChange,
    Upload,
)
from backoffice.practices.validation import check_practice_data
from backoffice.schemas import JSONObject, StoredFile
from sportello.clock import ROME

RenderDetail = Callable[[PracticeDetail], JSONObject]


async def practice_types(uow: UnitOfWork) -> list[PracticeType]:
    async with uow:
        return await PracticeTypeRepository(uow.session).list()


async def get_practice_type(uow: UnitOfWork, code: str) -> PracticeType:
    async with uow:
        return await PracticeTypeRepository(uow.session).get(code)


async def check_linked(uow: UnitOfWork, user: ChannelUser) -> None:
    """NotLinked for a chat linked to nobody (an upload is refused before a byte is read)."""
    async with uow:
        await require_linked(uow.session, user)


async def create_upload(
    uow: UnitOfWork,
    user: ChannelUser,
    filename: str,
    content_type: str,
    content: bytes,
    now: datetime,
    quota: domain.UploadQuota,
) -> Upload:
    """Store a file of a linked chat; NotLinked, or UploadQuotaExceeded past the quota."""
    async with uow:
        citizen = await require_linked(uow.session, user)
        uploads = UploadRepository(uow.session)
        await uploads.lock_citizen(citizen.citizen_id)
        sent = await uploads.sent_since(citizen.citizen_id, now - domain.UPLOAD_QUOTA_WINDOW)
        retry_after = domain.quota_retry_after(sent, len(content), now, quota)
        if retry_after is not None:
            raise UploadQuotaExceeded(retry_after, quota.max_files, quota.max_mb)
        created = await uploads.add(user, citizen.citizen_id, filename, content_type, content, now)
        await uow.commit()
    return created


async def _owned_uploads(
    uploads: UploadRepository,
    user: ChannelUser,
    references: dict[str, list[str]],
    errors: dict[str, str],
) -> list[models.Upload]:
    """The chat's own uploads the data names, not yet part of a pratica; errors by field."""
    found: list[models.Upload] = []
    for name, ids in references.items():
        rows = await uploads.of_chat(user, ids)
        if len(rows) != len(ids):
            errors[name] = "Non trovo questo file: mandamelo di nuovo qui in chat."
        elif any(row.practice_id is not None for row in rows.values()):
            errors[name] = "Questo file è già allegato a un'altra pratica."
        else:
            found.extend(rows.values())
    return found


async def submit(
    uow: UnitOfWork,
    user: ChannelUser,
    key: str,
    type_code: str,
    data: Any,
    now: datetime,
    render: RenderDetail,
    verify_url: Callable[[str], str],
    comune: str,
) -> JSONObject:
    """File a pratica once per Idempotency-Key; the answer, the same to every retry.

    A retry, even one racing the first request, gets the first answer: the key's record is
    written first, and the loser of the race on its unique constraint reads the winner's.
    """
    fingerprint = request_fingerprint({"practice_type": type_code, "data": data})
    async with uow:
        session = uow.session
        idempotency = IdempotencyRepository(session)
        stored = await idempotency.stored_response(user, key, fingerprint, now)
        if stored is not None:
            return stored[1]

        ptype_row = await PracticeTypeRepository(session).row(type_code)
        if ptype_row is None:
            raise InvalidData({"practice_type": "Questo tipo di pratica non esiste."})
        ptype = practice_type(ptype_row)
        linked = await IdentityRepository(session).linked(user)
        if linked is None and not domain.may_file_anonymously(ptype.code):
            raise NotLinked()
        practices, uploads = PracticeRepository(session), UploadRepository(session)
        citizen = await practices.citizen(linked.citizen_id) if linked is not None else None
        certificate = domain.is_certificate(ptype.code)
        if (
            certificate
            and citizen is not None
            and isinstance(data, dict)
            and not data.get("subject_fiscal_code")
        ):
            # The chat never holds the full codice fiscale: by default, a certificate is
            # the linked citizen's own.
            data = {**data, "subject_fiscal_code": citizen.fiscal_code}
        checked = check_practice_data(ptype.fields, data)
        owned = await _owned_uploads(uploads, user, checked.uploads, checked.errors)
        subject = checked.data.get("subject_fiscal_code")
        if (
            certificate
            and citizen is not None
            and subject is not None
            and "subject_fiscal_code" not in checked.errors
        ):
            error = domain.certificate_subject_error(
                citizen.fiscal_code, bool(citizen.address), bool(citizen.household_id), ptype.code, subject
            )
            if error is not None:
                checked.errors["subject_fiscal_code"] = error
        if checked.errors:
            raise InvalidData(checked.errors)

        record = await idempotency.reserve(user, key, fingerprint, now)
        if record is None:
            # A concurrent request with the same key got there first and has committed.
            stored = await idempotency.stored_response(user, key, fingerprint, now)
            if stored is None:  # pragma: no cover - the winner rolled back meanwhile
                raise Conflict("retry the request")
            return stored[1]

        year = now.astimezone(ROME).year
        number = await practices.next_protocol_number(year)
        practice = await practices.add(
            year, number, ptype_row.id, citizen.id if citizen is not None else None, user, checked.data, now
        )
        for row in owned:
            row.practice_id = practice.id
        if certificate and citizen is not None:
            await _issue_certificate(
                practices, practice, ptype.code, citizen, checked.data, now, verify_url, comune
            )
        await practices.flush()

        detail = await practices.detail(practice)
        body = render(detail)
        record.status_code = 201
        record.response = body
        await EventRepository(session).append(
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
            channel_user=None if citizen is not None else str(user),
        )
        await uow.commit()
    return body


async def _issue_certificate(
    practices: PracticeRepository,
    practice: models.Practice,
    type_code: str,
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
    if type_code == "stato_famiglia":
        # By the anagrafe's family, not the address: two families at one address text
        # are two, one family is one however its address is spelled.
        assert citizen.household_id is not None
        household = await practices.household_names(citizen.household_id)
    pdf = render_certificate(
        CertificateContent(
            comune=comune,
            practice_type=type_code,
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
    practices.add_document(practice, certificate_filename(type_code, protocol), pdf, code, now)
    practice.status = PracticeStatus.ACCOLTA.value
    practices.add_history(practice, PracticeStatus.ACCOLTA.value, domain.CERTIFICATE_ISSUED_NOTE, None, now)


async def list_practices(uow: UnitOfWork, user: ChannelUser) -> list[PracticeSummary]:
    """The linked citizen's pratiche, newest first."""
    async with uow:
        citizen = await require_linked(uow.session, user)
        return await PracticeRepository(uow.session).list_for(citizen.citizen_id)


async def _visible(uow: UnitOfWork, year: int, number: int, user: ChannelUser) -> models.Practice:
    """The pratica if this chat may see it: the chat linked to its owner, and for an
    anonymous segnalazione the chat that sent it.

    NotLinked for any other chat linked to nobody, whatever the number (protocols are
    sequential and codici fiscali computable: knowing both proves nothing); for a linked
    chat, PracticeNotFound, as if it did not exist.
    """
    practice = await PracticeRepository(uow.session).by_protocol(year, number)
    if practice is not None and practice.citizen_id is None and practice.submitted_by == str(user):
        return practice
    linked = await require_linked(uow.session, user)
    if practice is not None and practice.citizen_id == linked.citizen_id:
        return practice
    raise PracticeNotFound()


async def get_practice(uow: UnitOfWork, year: int, number: int, user: ChannelUser) -> PracticeDetail:
    """One pratica, for the chat that may see it only."""
    async with uow:
        practice = await _visible(uow, year, number, user)
        return await PracticeRepository(uow.session).detail(practice)


async def _move(
    practices: PracticeRepository,
    practice: models.Practice,
    to: str,
    note: str | None,
    actor: str | None,
    now: datetime,
) -> StatusChange:
    from_status = practice.status
    if not await practices.move(practice, from_status, to, now):
        raise InvalidTransition("the pratica changed meanwhile: reload and retry")
    note = domain.clean_note(note)
    practices.add_history(practice, to, note, actor, now)
    await practices.flush()
    return StatusChange(
        detail=await practices.detail(practice), from_status=from_status, to_status=to, note=note
    )


def _recipients(practice: models.Practice) -> dict[str, Any]:
    """Who the event of a pratica is for: its citizen, or the chat of an anonymous one."""
    return {
        "citizen_id": practice.citizen_id,
        "channel_user": practice.submitted_by if practice.citizen_id is None else None,
    }


async def attach(
    uow: UnitOfWork, year: int, number: int, user: ChannelUser, upload_id: str, now: datetime
) -> PracticeDetail:
    """Attach an upload to one's own pratica; an integration request goes back to in
    istruttoria (and the office is told). Attaching it again is a retry: nothing changes."""
    async with uow:
        practice = await _visible(uow, year, number, user)
        practices, uploads = PracticeRepository(uow.session), UploadRepository(uow.session)
        errors: dict[str, str] = {}
        owned = await _owned_uploads(uploads, user, {"upload_id": [upload_id]}, errors)
        if not owned:
            if not await uploads.attached(user, upload_id, practice.id):
                raise InvalidData(errors)
        else:
            domain.check_takes_documents(practice.status)
            owned[0].practice_id = practice.id
            if practice.status == PracticeStatus.INTEGRAZIONE_RICHIESTA:
                change = await _move(
                    practices,
                    practice,
                    PracticeStatus.IN_ISTRUTTORIA,
                    domain.INTEGRATION_RECEIVED_NOTE,
                    None,
                    now,
                )
                await EventRepository(uow.session).append(
                    "integration_received", change.payload(), **_recipients(practice)
                )
            else:
                practice.updated_at = now
                await practices.flush()
        detail = await practices.detail(practice)
        await uow.commit()
    return detail


async def transition(
    uow: UnitOfWork, year: int, number: int, to: str, note: str | None, actor: str | None, now: datetime
) -> StatusChange:
    """The office moves a pratica along its lifecycle; the citizen is told through the feed."""
    async with uow:
        practices = PracticeRepository(uow.session)
        practice = await practices.by_protocol(year, number)
        if practice is None:
            raise PracticeNotFound()
        domain.check_transition(practice.status, to, note)
        change = await _move(practices, practice, to, note, actor, now)
        await EventRepository(uow.session).append(
            "practice_status_changed", change.payload(), **_recipients(practice)
        )
        await uow.commit()
    return change


async def staff_list(uow: UnitOfWork) -> list[PracticeSummary]:
    """The latest pratiche for the office's page."""
    async with uow:
        return await PracticeRepository(uow.session).staff_list()


async def document_file(uow: UnitOfWork, document_id: int) -> StoredFile:
    async with uow:
        return await DocumentRepository(uow.session).file(document_id)


async def verify_document(uow: UnitOfWork, code: str) -> DocumentVerification:
    """What the verification page shows of a genuine document; NotFound otherwise."""
    async with uow:
        return await DocumentRepository(uow.session).verify(code)
