"""HTTP edge of the pratiche: the catalogue, uploads, submission, the citizen's view, the
office's transitions, capability downloads and the public verification page."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp_jinja2
from aiohttp import BodyPartReader, web

from backoffice.appkeys import SETTINGS
from backoffice.capabilities import sign_file_token, verify_file_token
from backoffice.errors import InvalidRequest, NotFound
from backoffice.http.files import file_response
from backoffice.http.idempotency import idempotency_key
from backoffice.http.request import (
    base_url,
    channel_user,
    file_secret,
    json_object,
    now,
    staff_user,
    unit_of_work,
)
from backoffice.practices import services
from backoffice.practices.domain import FileTooLarge, PracticeNotFound, UnsupportedFileType, UploadQuota
from backoffice.practices.schemas import PracticeDetail
from backoffice.schemas import JSONObject
from sportello.clock import ROME

practice_routes = web.RouteTableDef()


# --- practice types -------------------------------------------------------------------


@practice_routes.get("/v1/practice-types")
async def list_practice_types(request: web.Request) -> web.Response:
    """List the pratica types citizens can submit, with their form fields."""
    practice_types = await services.practice_types(unit_of_work(request))
    return web.json_response({"practice_types": [item.to_json() for item in practice_types]})


# --- helpers of the citizen-scoped API ------------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_CHUNK = 64 * 1024
# The real type of a file, by its first bytes; the name and the declared type can lie.
FILE_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_SIGNATURE_BYTES = max(len(magic) for magic, _ in FILE_SIGNATURES)


def protocol(request: web.Request) -> tuple[int, int]:
    """Year and number from the path; anything malformed is a pratica that does not exist."""
    year, number = request.match_info["year"], request.match_info["number"]
    if not (year.isdigit() and len(year) == 4 and number.isdigit() and len(number) <= 9):
        raise PracticeNotFound()
    return int(year), int(number)


def verify_url(request: web.Request) -> Callable[[str], str]:
    base = base_url(request)
    return lambda code: f"{base}/verify/{code}"


def render_detail(
    request: web.Request,
) -> Callable[[PracticeDetail], JSONObject]:
    """Turn a detail into JSON, minting a fresh one-hour download URL for its document."""
    base, secret, at = base_url(request), file_secret(request), now(request)

    def render(detail: PracticeDetail) -> JSONObject:
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
    return "file" + {"application/pdf": ".pdf", "image/jpeg": ".jpg"}.get(content_type, ".png")


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


# --- uploads --------------------------------------------------------------------------


def upload_quota(request: web.Request) -> UploadQuota:
    settings = request.app[SETTINGS]
    return UploadQuota(max_files=settings.upload_quota_files, max_mb=settings.upload_quota_mb)


@practice_routes.post("/v1/uploads")
async def create_upload(request: web.Request) -> web.Response:
    """Store a PDF, JPEG or PNG (by its bytes) of at most 20 MB sent by a linked chat,
    within the citizen's quota of UPLOAD_QUOTA_FILES files and UPLOAD_QUOTA_MB a day."""
    user = channel_user(request)
    # Refused before a byte of the file is read.
    await services.check_linked(unit_of_work(request), user)
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
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
    upload = await services.create_upload(
        unit_of_work(request), user, filename, content_type, content, now(request), upload_quota(request)
    )
    return web.json_response(upload.to_json(), status=201)


# --- practices ------------------------------------------------------------------------


@practice_routes.get("/v1/practice-types/{code}")
async def get_practice_type(request: web.Request) -> web.Response:
    """One pratica type with its form fields and the question to ask for each."""
    practice_type = await services.get_practice_type(unit_of_work(request), request.match_info["code"])
    return web.json_response(practice_type.to_json())


@practice_routes.post("/v1/practices")
async def submit_practice(request: web.Request) -> web.Response:
    """File a pratica (once per Idempotency-Key); certificates are issued at once."""
    user = channel_user(request)
    key = idempotency_key(request, required=True)
    assert key is not None
    body = await json_object(request)
    practice_type = body.get("practice_type")
    if not isinstance(practice_type, str):
        raise InvalidRequest("practice_type is required")
    response = await services.submit(
        unit_of_work(request),
        user,
        key,
        practice_type,
        body.get("data", {}),
        now(request),
        render_detail(request),
        verify_url(request),
        request.app[SETTINGS].comune_name,
    )
    return web.json_response(response, status=201)


@practice_routes.get("/v1/practices")
async def list_practices(request: web.Request) -> web.Response:
    """The linked citizen's pratiche, newest first."""
    user = channel_user(request)
    practices = await services.list_practices(unit_of_work(request), user)
    return web.json_response({"practices": [item.to_json() for item in practices]})


@practice_routes.get("/v1/practices/{year}/{number}")
async def get_practice(request: web.Request) -> web.Response:
    """One pratica, for the chat linked to its owner only (no codice fiscale opens it)."""
    user = channel_user(request)
    year, number = protocol(request)
    detail = await services.get_practice(unit_of_work(request), year, number, user)
    return web.json_response(render_detail(request)(detail))


@practice_routes.post("/v1/practices/{year}/{number}/attachments")
async def attach_document(request: web.Request) -> web.Response:
    """Attach an upload to one's own pratica; an integration request then resumes."""
    user = channel_user(request)
    year, number = protocol(request)
    body = await json_object(request)
    upload_id = body.get("upload_id")
    if not isinstance(upload_id, str):
        raise InvalidRequest("upload_id is required")
    detail = await services.attach(unit_of_work(request), year, number, user, upload_id, now(request))
    return web.json_response(render_detail(request)(detail))


@practice_routes.post("/v1/staff/practices/{year}/{number}/transitions")
async def transition_practice(request: web.Request) -> web.Response:
    """The office moves a pratica along its lifecycle; the citizen is told through the feed."""
    year, number = protocol(request)
    body = await json_object(request)
    to, note = body.get("to"), body.get("note")
    if not isinstance(to, str) or not (note is None or isinstance(note, str)):
        raise InvalidRequest("to (a status) is required; note must be a string")
    actor = staff_user(request)
    change = await services.transition(unit_of_work(request), year, number, to, note, actor, now(request))
    return web.json_response(render_detail(request)(change.detail))


# --- public: capability downloads and verification pages ------------------------------


@practice_routes.get("/files/{token}")
async def download_file(request: web.Request) -> web.Response:
    """Serve a document to whoever holds its unexpired capability URL (no API key)."""
    token = verify_file_token(file_secret(request), request.match_info["token"], now(request))
    stored = await services.document_file(unit_of_work(request), token.document_id)
    return file_response(stored)


@practice_routes.get("/verify/{code}")
async def verify_document(request: web.Request) -> web.Response:
    """A public page telling whether a certificate with this verification code was issued."""
    comune = request.app[SETTINGS].comune_name
    code = request.match_info["code"]
    try:
        found = await services.verify_document(unit_of_work(request), code)
    except NotFound:
        return aiohttp_jinja2.render_template(
            "practices/not_verified.html", request, {"comune": comune, "code": code}, status=404
        )
    context = {"comune": comune, "code": code, "found": found, "issued": found.issued_at.astimezone(ROME)}
    return aiohttp_jinja2.render_template("practices/verified.html", request, context)
