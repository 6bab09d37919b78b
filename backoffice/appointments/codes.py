"""An appointment's code, read aloud at the desk, and the signed token of the desk's QR."""

from __future__ import annotations

import hmac
import re
import secrets

from backoffice.capabilities import sign
from backoffice.identity.domain import LINK_CODE_ALPHABET

CODE_PREFIX = "CE"
CODE_LENGTH = 4
_TOKEN_LABEL = b"sportello-digitale/appointments/v1"
_CODE_CHARACTERS = re.compile(r"[^A-Z0-9]")


def new_appointment_code() -> str:
    """A short code read aloud at the desk, without 0/O or 1/I: CE-7K3P."""
    suffix = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{CODE_PREFIX}-{suffix}"


def normalise_appointment_code(value: str) -> str:
    """CE-7K3P however it was typed: 'ce7k3p', 'CE 7K3P'."""
    plain = _CODE_CHARACTERS.sub("", value.upper())
    return f"{plain[:2]}-{plain[2:]}" if len(plain) > 2 else plain


def sign_appointment_token(secret: str, code: str) -> str:
    """The token of an appointment's verification URL; it holds for the code's life."""
    # 128 bits are unguessable and keep the QR small enough for an old phone's camera.
    return sign(secret, _TOKEN_LABEL, code, length=16)


def verify_appointment_token(secret: str, code: str, token: str) -> bool:
    return hmac.compare_digest(token, sign_appointment_token(secret, code))
