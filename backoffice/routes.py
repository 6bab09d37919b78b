"""HTTP handlers of the back-office API, one section per aggregate, as in openapi.yaml."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web
from sqlalchemy.exc import SQLAlchemyError

from backoffice import schemas
from backoffice.appkeys import CLOCK, ENGINE, SESSIONMAKER, SETTINGS
from backoffice.appointments import ClosedDays
from backoffice.capabilities import sign_file_token, verify_file_token
from backoffice.certificates import ROME
from backoffice.db import ping
from backoffice.errors import (
    FileTooLarge,
    InvalidRequest,
    LinkCodeExpired,
    LinkCodeInvalid,
    NotFound,
    PracticeNotFound,
    UnsupportedFileType,
)
from backoffice.identity import CHANNEL_USER_HEADER, ChannelUser, normalise_link_code
from backoffice.pages import comune_page, file_response
from backoffice.repositories import (
    CounterServiceRepository,
    DocumentRepository,
    EventRepository,
    IdentityRepository,
    PracticeRepository,
    PracticeTypeRepository,
    UploadQuota,
    UploadRepository,
)
from backoffice.schemas import JSONObject

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

HEALTH_TIMEOUT_SECONDS = 3.0
EVENTS_DEFAULT_LIMIT = 100
EVENTS_MAX_LIMIT = 500
# How far ahead a counter service tells its closed days: enough for the chat to say when
# a desk reopens after Christmas or Easter.
CLOSURE_DAYS = 14
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
STAFF_USER_HEADER = "X-Staff-User"


def _int_query(
    request: web.Request, name: str, default: int, low: int, high: int
) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return value


# --- health ---------------------------------------------------------------------------


@routes.get("/health")
async def get_health(request: web.Request) -> web.Response:
    """Report whether the service and its database answer."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            await ping(request.app[ENGINE])
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        # The type is enough to diagnose and cannot leak personal data.
        log.warning("database health check failed: %s", type(exc).__name__)
        return web.json_response(
            {"status": "unavailable", "database": "error"}, status=503
        )
    return web.json_response({"status": "ok", "database": "ok"})


# --- counter services -----------------------------------------------------------------


def _closures(request: web.Request) -> list[JSONObject]:
    """The holidays and the comune's closing days from today (Rome) for CLOSURE_DAYS days."""
    closed_days = ClosedDays(request.app[SETTINGS].comune_closing_days)
    today = request.app[CLOCK]().astimezone(ROME).date()
    return [closure.to_json() for closure in closed_days.ahead(today, CLOSURE_DAYS)]


@routes.get("/v1/counter-services")
async def list_counter_services(request: web.Request) -> web.Response:
    """List every counter service with its opening hours and closed days."""
    async with request.app[SESSIONMAKER]() as session:
        services = await CounterServiceRepository(session).list()
    # Every counter closes on the same days; each service carries them so that a service
    # looks the same listed or fetched alone.
    closures = _closures(request)
    return web.json_response(
        {
            "counter_services": [
                {**service.to_json(), "closures": closures} for service in services
            ]
        }
    )


@routes.get("/v1/counter-services/{code}")
async def get_counter_service(request: web.Request) -> web.Response:
    """Return one counter service by code, with its closed days of the next two weeks."""
    async with request.app[SESSIONMAKER]() as session:
        service = await CounterServiceRepository(session).get(
            request.match_info["code"]
        )
    return web.json_response({**service.to_json(), "closures": _closures(request)})


# --- practice types -------------------------------------------------------------------


@routes.get("/v1/practice-types")
async def list_practice_types(request: web.Request) -> web.Response:
    """List the pratica types citizens can submit, with their form fields."""
    async with request.app[SESSIONMAKER]() as session:
        practice_types = await PracticeTypeRepository(session).list()
    return web.json_response(
        {"practice_types": [item.to_json() for item in practice_types]}
    )


# --- event feed -----------------------------------------------------------------------


@routes.get("/v1/events")
async def list_events(request: web.Request) -> web.Response:
    """Return the events after a cursor, oldest first, and the cursor to use next."""
    after = _int_query(request, "after", 0, 0, 2**63 - 1)
    limit = _int_query(request, "limit", EVENTS_DEFAULT_LIMIT, 1, EVENTS_MAX_LIMIT)
    async with request.app[SESSIONMAKER]() as session:
        page = await EventRepository(session).after(after, limit)
    return web.json_response(page.to_json())


# --- helpers of the citizen-scoped API ------------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_CHUNK = 64 * 1024
MAX_IDEMPOTENCY_KEY = 200
# The real type of a file, by its first bytes; the name and the declared type can lie.
FILE_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_SIGNATURE_BYTES = max(len(magic) for magic, _ in FILE_SIGNATURES)


def now() -> datetime:
    return datetime.now(UTC)


def channel_user(request: web.Request) -> ChannelUser:
    return ChannelUser.parse(request.headers.get(CHANNEL_USER_HEADER))


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise InvalidRequest("the body must be JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def protocol(request: web.Request) -> tuple[int, int]:
    """Year and number from the path; anything malformed is a pratica that does not exist."""
    year, number = request.match_info["year"], request.match_info["number"]
    if not (
        year.isdigit() and len(year) == 4 and number.isdigit() and len(number) <= 9
    ):
        raise PracticeNotFound()
    return int(year), int(number)


def base_url(request: web.Request) -> str:
    """Where citizens' clients reach this back office: BACKOFFICE_URL when configured."""
    settings = request.app[SETTINGS]
    if "backoffice_url" in settings.model_fields_set:
        return settings.backoffice_url.rstrip("/")
    return str(request.url.origin())


def public_base_url(request: web.Request) -> str:
    """Where browsers and the desk's phone reach the public pages: PUBLIC_BASE_URL if set."""
    public = request.app[SETTINGS].public_base_url
    return public.rstrip("/") if public else base_url(request)


def file_secret(request: web.Request) -> str:
    """The key of signed links; its own secret, never the API key."""
    return request.app[SETTINGS].backoffice_file_secret.get_secret_value()


def verify_url(request: web.Request) -> Callable[[str], str]:
    base = base_url(request)
    return lambda code: f"{base}/verify/{code}"


def render_detail(
    request: web.Request,
) -> Callable[[schemas.PracticeDetail], JSONObject]:
    """Turn a detail into JSON, minting a fresh one-hour download URL for its document."""
    base, secret, at = base_url(request), file_secret(request), now()

    def render(detail: schemas.PracticeDetail) -> JSONObject:
        url = None
        if detail.document is not None:
            token = sign_file_token(secret, detail.document.document_id, at)
            url = f"{base}/files/{token}"
        return detail.to_json(url)

    return render


def _safe_filename(name: str | None, content_type: str) -> str:
    # Only the last path component, printable, bounded: it is shown to clerks.
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:200]
    if base:
        return base
    return "file" + {"application/pdf": ".pdf", "image/jpeg": ".jpg"}.get(
        content_type, ".png"
    )


async def _read_file_part(part: BodyPartReader) -> tuple[bytes, str]:
    """Read one file part up to the limit, refusing early what is not PDF, JPEG or PNG."""
    content = bytearray()
    content_type: str | None = None
    while chunk := await part.read_chunk(UPLOAD_CHUNK):
        content += chunk
        if len(content) > MAX_UPLOAD_BYTES:
            raise FileTooLarge(f"files may be at most {MAX_UPLOAD_BYTES} bytes")
        if content_type is None and len(content) >= _SIGNATURE_BYTES:
            content_type = _sniff(bytes(content))
    if content_type is None:
        content_type = _sniff(bytes(content))
    return bytes(content), content_type


def _sniff(head: bytes) -> str:
    for magic, content_type in FILE_SIGNATURES:
        if head.startswith(magic):
            return content_type
    raise UnsupportedFileType("only PDF, JPEG and PNG files are accepted")


# --- identity -------------------------------------------------------------------------


@routes.post("/v1/link-codes")
async def create_link_code(request: web.Request) -> web.Response:
    """Mint a one-time link code for a citizen (the portal's part, after SPID/CIE)."""
    body = await json_object(request)
    fiscal_code = body.get("fiscal_code")
    if not isinstance(fiscal_code, str) or not fiscal_code.strip():
        raise InvalidRequest("fiscal_code is required")
    async with request.app[SESSIONMAKER].begin() as session:
        code = await IdentityRepository(session).create_link_code(fiscal_code, now())
    return web.json_response(code.to_json(), status=201)


@routes.post("/v1/channel-links")
async def create_channel_link(request: web.Request) -> web.Response:
    """Link the calling chat account to the citizen a link code was minted for."""
    user = channel_user(request)
    body = await json_object(request)
    code = body.get("code")
    if not isinstance(code, str):
        raise InvalidRequest("code is required")
    at = now()
    async with request.app[SESSIONMAKER]() as session:
        identity = IdentityRepository(session)
        await identity.check_attempts(user, "link", at)
        try:
            citizen = await identity.link(user, normalise_link_code(code), at)
        except (LinkCodeInvalid, LinkCodeExpired):
            await session.rollback()
            await identity.record_failure(user, "link", at)
            await session.commit()
            raise
        await session.commit()
    return web.json_response(citizen.to_json(), status=201)


@routes.get("/v1/me")
async def get_me(request: web.Request) -> web.Response:
    """Who the calling chat account is linked to (name and masked codice fiscale)."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER]() as session:
        citizen = await IdentityRepository(session).require_linked(user)
    return web.json_response(citizen.to_json())


@routes.delete("/v1/channel-links/me")
async def delete_channel_link(request: web.Request) -> web.Response:
    """Unlink the calling chat account."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER].begin() as session:
        await IdentityRepository(session).unlink(user)
    return web.Response(status=204)


# --- uploads --------------------------------------------------------------------------


def upload_quota(request: web.Request) -> UploadQuota:
    settings = request.app[SETTINGS]
    return UploadQuota(
        max_files=settings.upload_quota_files, max_mb=settings.upload_quota_mb
    )


@routes.post("/v1/uploads")
async def create_upload(request: web.Request) -> web.Response:
    """Store a PDF, JPEG or PNG (by its bytes) of at most 20 MB sent by a linked chat,
    within the citizen's quota of UPLOAD_QUOTA_FILES files and UPLOAD_QUOTA_MB a day."""
    user = channel_user(request)
    # Refused before a byte of the file is read.
    async with request.app[SESSIONMAKER]() as session:
        await IdentityRepository(session).require_linked(user)
    if (
        request.content_length is not None
        and request.content_length > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD
    ):
        raise FileTooLarge(f"files may be at most {MAX_UPLOAD_BYTES} bytes")
    if request.content_type != "multipart/form-data":
        raise InvalidRequest("send the file as multipart/form-data, field 'file'")
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "file":
            content, content_type = await _read_file_part(part)
            filename = _safe_filename(part.filename, content_type)
            break
        await part.release()
    else:
        raise InvalidRequest("the multipart field 'file' is required")
    async with request.app[SESSIONMAKER].begin() as session:
        upload = await UploadRepository(session).create(
            user, filename, content_type, content, now(), upload_quota(request)
        )
    return web.json_response(upload.to_json(), status=201)


# --- practices ------------------------------------------------------------------------


@routes.get("/v1/practice-types/{code}")
async def get_practice_type(request: web.Request) -> web.Response:
    """One pratica type with its form fields and the question to ask for each."""
    async with request.app[SESSIONMAKER]() as session:
        practice_type = await PracticeTypeRepository(session).get(
            request.match_info["code"]
        )
    return web.json_response(practice_type.to_json())


@routes.post("/v1/practices")
async def submit_practice(request: web.Request) -> web.Response:
    """File a pratica (once per Idempotency-Key); certificates are issued at once."""
    user = channel_user(request)
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER, "").strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidRequest(
            f"the {IDEMPOTENCY_KEY_HEADER} header is required (at most {MAX_IDEMPOTENCY_KEY} characters)"
        )
    body = await json_object(request)
    practice_type = body.get("practice_type")
    if not isinstance(practice_type, str):
        raise InvalidRequest("practice_type is required")
    async with request.app[SESSIONMAKER]() as session:
        status, response = await PracticeRepository(session).submit(
            user,
            key,
            practice_type,
            body.get("data", {}),
            now(),
            render_detail(request),
            verify_url(request),
            request.app[SETTINGS].comune_name,
        )
    return web.json_response(response, status=status)


@routes.get("/v1/practices")
async def list_practices(request: web.Request) -> web.Response:
    """The linked citizen's pratiche, newest first."""
    user = channel_user(request)
    async with request.app[SESSIONMAKER]() as session:
        citizen = await IdentityRepository(session).require_linked(user)
        practices = await PracticeRepository(session).list_for(citizen.citizen_id)
    return web.json_response({"practices": [item.to_json() for item in practices]})


@routes.get("/v1/practices/{year}/{number}")
async def get_practice(request: web.Request) -> web.Response:
    """One pratica, for the chat linked to its owner only (no codice fiscale opens it)."""
    user = channel_user(request)
    year, number = protocol(request)
    async with request.app[SESSIONMAKER]() as session:
        repository = PracticeRepository(session)
        practice = await repository.visible(year, number, user)
        detail = await repository.detail(practice)
    return web.json_response(render_detail(request)(detail))


@routes.post("/v1/practices/{year}/{number}/attachments")
async def attach_document(request: web.Request) -> web.Response:
    """Attach an upload to one's own pratica; an integration request then resumes."""
    user = channel_user(request)
    year, number = protocol(request)
    body = await json_object(request)
    upload_id = body.get("upload_id")
    if not isinstance(upload_id, str):
        raise InvalidRequest("upload_id is required")
    async with request.app[SESSIONMAKER].begin() as session:
        repository = PracticeRepository(session)
        practice = await repository.visible(year, number, user)
        change = await repository.attach(practice, user, upload_id, now())
        if change is not None:
            await EventRepository(session).append(
                "integration_received",
                change.payload(),
                citizen_id=practice.citizen_id,
                channel_user=practice.submitted_by
                if practice.citizen_id is None
                else None,
            )
        detail = await repository.detail(practice)
    return web.json_response(render_detail(request)(detail))


@routes.post("/v1/staff/practices/{year}/{number}/transitions")
async def transition_practice(request: web.Request) -> web.Response:
    """The office moves a pratica along its lifecycle; the citizen is told through the feed."""
    year, number = protocol(request)
    body = await json_object(request)
    to, note = body.get("to"), body.get("note")
    if not isinstance(to, str) or not (note is None or isinstance(note, str)):
        raise InvalidRequest("to (a status) is required; note must be a string")
    actor = request.headers.get(STAFF_USER_HEADER, "").strip()[:100] or None
    async with request.app[SESSIONMAKER].begin() as session:
        change = await PracticeRepository(session).transition(
            year, number, to, note, actor, now()
        )
    return web.json_response(render_detail(request)(change.detail))


# --- public: capability downloads and verification pages ------------------------------


@routes.get("/files/{token}")
async def download_file(request: web.Request) -> web.Response:
    """Serve a document to whoever holds its unexpired capability URL (no API key)."""
    token = verify_file_token(file_secret(request), request.match_info["token"], now())
    async with request.app[SESSIONMAKER]() as session:
        stored = await DocumentRepository(session).file(token.document_id)
    return file_response(stored)


@routes.get("/verify/{code}")
async def verify_document(request: web.Request) -> web.Response:
    """A public page telling whether a certificate with this verification code was issued."""
    comune = request.app[SETTINGS].comune_name
    code = request.match_info["code"]
    try:
        async with request.app[SESSIONMAKER]() as session:
            found = await DocumentRepository(session).verify(code)
    except NotFound:
        body = (
            "<h2>Documento non trovato</h2>"
            f"<p>Nessun documento ha il codice di verifica <strong>{html.escape(code)}</strong>. "
            "Controlla il codice: se è giusto, il documento non è stato emesso da questo Comune.</p>"
        )
        return comune_page(comune, "Documento non trovato", body, status=404)
    issued = found.issued_at.astimezone(ROME)
    body = (
        "<h2>Documento autentico</h2>"
        f"<p>Il Comune di {html.escape(comune)} ha emesso questo documento.</p><dl>"
        f"<dt>Tipo</dt><dd>{html.escape(found.practice_type_name)}</dd>"
        f"<dt>Protocollo</dt><dd>{html.escape(found.protocol_number)}</dd>"
        f"<dt>Data di emissione</dt><dd>{issued:%d/%m/%Y}</dd>"
        f"<dt>Codice di verifica</dt><dd>{html.escape(code.upper())}</dd></dl>"
    )
    return comune_page(comune, "Documento autentico", body)
