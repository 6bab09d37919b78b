"""Pratiche: their types, uploads, submitting, tracking, attachments, the office's transitions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from backend_client.errors import FileTooLarge
from backend_client.models.practices import PracticeDetail, PracticeSummary, PracticeType, Upload
from backend_client.transport import (
    MAX_UPLOAD_BYTES,
    Transport,
    parse,
    parse_list,
    practice_path,
    segment,
)


class PracticesAPI:
    """`client.practices`: pratiche: their types, uploads, submitting, tracking, attachments, the office's transitions."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def types(self) -> list[PracticeType]:
        """The pratica types citizens can submit, with their fields."""
        body = await self._transport.request("GET", "/v1/practice-types")
        return parse_list(body, "practice_types", PracticeType)

    async def type(self, code: str) -> PracticeType:
        """One pratica type with its fields and the question to ask for each; NotFound if unknown."""
        body = await self._transport.request("GET", f"/v1/practice-types/{segment(code)}")
        return parse(body, PracticeType)

    async def upload(
        self, channel_user: str, content: bytes, filename: str, content_type: str
    ) -> Upload:
        """Send a file (PDF, JPEG or PNG, at most 20 MB); attach it later by upload_id.

        NotLinked (only linked chats upload), UploadQuotaExceeded (the citizen's files of
        the last 24 hours), FileTooLarge, UnsupportedFileType (the back office judges the
        bytes, not the name).
        """
        if len(content) > MAX_UPLOAD_BYTES:
            raise FileTooLarge(
                f"files may be at most {MAX_UPLOAD_BYTES} bytes",
                status=413,
                code="file_too_large",
            )
        form = aiohttp.FormData()
        form.add_field("file", content, filename=filename, content_type=content_type)
        body = await self._transport.request(
            "POST", "/v1/uploads", data=form, channel_user=channel_user
        )
        return parse(body, Upload)

    async def submit(
        self,
        channel_user: str,
        practice_type: str,
        data: Mapping[str, Any],
        idempotency_key: str,
    ) -> PracticeDetail:
        """File a pratica; keep `idempotency_key` for the whole attempt (one per pratica).

        NotLinked (only segnalazione may be anonymous), InvalidData with `.fields`.
        """
        # Retried on connection errors and timeouts although POST is not idempotent: the
        # back office files one pratica per (chat account, Idempotency-Key) and answers a
        # repeat with the first answer, so a retry after a lost response cannot file twice.
        # A 5xx is not retried: the back office answered, and the caller decides.
        body = await self._transport.request(
            "POST",
            "/v1/practices",
            json={"practice_type": practice_type, "data": dict(data)},
            channel_user=channel_user,
            idempotency_key=idempotency_key,
            retry_on_connection_errors=True,
        )
        return parse(body, PracticeDetail)

    async def mine(self, channel_user: str) -> list[PracticeSummary]:
        """The linked citizen's pratiche, newest first; NotLinked if not linked."""
        body = await self._transport.request("GET", "/v1/practices", channel_user=channel_user)
        return parse_list(body, "practices", PracticeSummary)

    async def get(
        self, channel_user: str, protocol_number: str
    ) -> PracticeDetail:
        """One pratica by protocol ("2026/000123"), for the chat linked to its owner.

        NotLinked for a chat linked to nobody (whatever the number; an anonymous
        segnalazione is still shown to the chat that sent it); PracticeNotFound when it
        does not exist or is someone else's.
        """
        body = await self._transport.request(
            "GET", practice_path(protocol_number), channel_user=channel_user
        )
        return parse(body, PracticeDetail)

    async def attach(
        self, channel_user: str, protocol_number: str, upload_id: str
    ) -> PracticeDetail:
        """Attach an upload to one's own pratica; one awaiting documents goes back to review."""
        body = await self._transport.request(
            "POST",
            practice_path(protocol_number) + "/attachments",
            json={"upload_id": upload_id},
            channel_user=channel_user,
        )
        return parse(body, PracticeDetail)

    async def transition(
        self,
        protocol_number: str,
        to: str,
        note: str | None = None,
        staff_user: str | None = None,
    ) -> PracticeDetail:
        """The office moves a pratica to status `to`; InvalidTransition if not allowed.

        `integrazione_richiesta` needs a note saying what is missing (InvalidData otherwise).
        """
        number = practice_path(protocol_number).removeprefix("/v1/practices/")
        body = await self._transport.request(
            "POST",
            f"/v1/staff/practices/{number}/transitions",
            json={"to": to, "note": note},
            staff_user=staff_user,
        )
        return parse(body, PracticeDetail)
