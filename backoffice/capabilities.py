"""Capability URLs: unguessable, expiring links that serve one document without the API key.

A token is `<document id>.<expiry>.<signature>`, signed with HMAC-SHA256 under a key derived
from the back office's secret, so nothing has to be stored and nobody can forge or extend one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backoffice.errors import LinkExpired, NotFound

FILE_LINK_VALIDITY = timedelta(hours=1)
_LABEL = b"sportello-digitale/files/v1"


def derive_key(secret: str, label: bytes) -> bytes:
    """A key of its own for one kind of token, so no token can be mistaken for another kind."""
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


def sign(secret: str, label: bytes, message: str, length: int = 32) -> str:
    """The HMAC-SHA256 of `message` under `label`'s key: its first `length` bytes, URL-safe."""
    digest = hmac.new(derive_key(secret, label), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:length]).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class FileToken:
    """A verified token: which document, until when."""

    document_id: int
    expires_at: datetime


def sign_file_token(
    secret: str,
    document_id: int,
    now: datetime,
    validity: timedelta = FILE_LINK_VALIDITY,
) -> str:
    """A token letting its holder download the document until now + validity."""
    expires = int((now + validity).timestamp())
    message = f"{document_id}.{expires}"
    return f"{message}.{sign(secret, _LABEL, message)}"


def verify_file_token(secret: str, token: str, now: datetime) -> FileToken:
    """Check a token; NotFound if forged or malformed, LinkExpired if its time is over."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise NotFound("no such file")
    message = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], sign(secret, _LABEL, message)):
        raise NotFound("no such file")
    expires_at = datetime.fromtimestamp(int(parts[1]), UTC)
    if expires_at <= now:
        raise LinkExpired("this download link has expired")
    return FileToken(int(parts[0]), expires_at)
