"""Rules of tributi: pagoPA notice numbers (codice avviso, IUV) and their check digits, a
position's status as of a day, the QR payload, checkout and receipt links."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta

from backoffice.capabilities import derive_key, sign_file_token, verify_file_token
from backoffice.db.models import TaxStatus
from backoffice.errors import Conflict
from sportello.clock import ROME

NOTICE_NUMBER_LENGTH = 18


def check_digits(first_sixteen: str) -> str:
    """Return the two check digits: the remainder mod 93 of the preceding 16 digits."""
    return f"{int(first_sixteen) % 93:02d}"


def notice_number(segregation_code: str, iuv: str, aux_digit: str = "3") -> str:
    """Build an 18-digit codice avviso from aux digit, segregation code and 13-digit IUV."""
    if len(segregation_code) != 2 or not segregation_code.isdigit():
        raise ValueError("segregation code must be 2 digits")
    if len(iuv) != 13 or not iuv.isdigit():
        raise ValueError("IUV must be 13 digits")
    head = f"{aux_digit}{segregation_code}{iuv}"
    return head + check_digits(head)


def is_valid_notice_number(value: str) -> bool:
    """Tell whether `value` is 18 digits whose last two are the right check digits."""
    if len(value) != NOTICE_NUMBER_LENGTH or not value.isdigit():
        return False
    return check_digits(value[:16]) == value[16:]


# Aux digit 3: the comune (or its intermediary) runs more than one IUV generator, told
# apart by the segregation code.
AUX_DIGIT = "3"
QR_VERSION = "002"
CHECKOUT_TOKEN_BYTES = 24
# A checkout link works this long (CHECKOUT_LINK_HOURS); asking for the notice again in the
# chat gives a fresh link once the old one is gone or about to go.
CHECKOUT_LINK_VALIDITY = timedelta(hours=24)
CHECKOUT_REFRESH_MARGIN = timedelta(hours=1)
# A random IUV colliding with an existing one is left to chance; a few retries settle it.
ISSUE_ATTEMPTS = 3
# The feed may be read late (the bot was down): the receipt link in the event must outlive
# that. The link is the citizen's own proof of payment, sent only to the citizen's chats.
RECEIPT_LINK_VALIDITY = timedelta(days=7)
_RECEIPT_LABEL = b"sportello-digitale/receipts/v1"
_SEPARATORS = re.compile(r"[\s\-./]")


def position_status(stored: str, due_date: date, today: date) -> TaxStatus:
    """The status as of today: an unpaid instalment whose due date has passed is overdue."""
    if stored == TaxStatus.PAGATO:
        return TaxStatus.PAGATO
    return TaxStatus.SCADUTO if due_date < today else TaxStatus.DA_PAGARE


def qr_payload(number: str, payee_fiscal_code: str, amount_cents: int) -> str:
    """The text of a pagoPA notice's QR code: PAGOPA|002|<18>|<11>|<cents>."""
    return f"PAGOPA|{QR_VERSION}|{number}|{payee_fiscal_code}|{amount_cents}"


def new_notice_number(segregation_code: str, today: date) -> str:
    """A fresh codice avviso: aux digit 3, segregation code, a random 13-digit IUV, check digits.

    The IUV starts with the year's last two digits, as the seeded ones do, so an office
    reading it knows the year at a glance; the rest is random so it cannot be guessed.
    """
    iuv = f"{today.year % 100:02d}{secrets.randbelow(10**11):011d}"
    return notice_number(segregation_code, iuv, AUX_DIGIT)


def usable_notice_number(number: str | None) -> bool:
    """Whether a stored codice avviso can be handed out as it is (valid, aux digit 3)."""
    return (
        number is not None
        and number.startswith(AUX_DIGIT)
        and is_valid_notice_number(number)
    )


def normalise_notice_number(value: str) -> str:
    """Digits only: '3010 2600 0000 0001 23' as printed on paper is the same notice."""
    return _SEPARATORS.sub("", value)


def _receipt_key(secret: str) -> str:
    # Receipt links reuse the file links' token format under a key of their own, so a
    # certificate's token never opens a receipt, nor the other way round.
    return derive_key(secret, _RECEIPT_LABEL).hex()


def sign_receipt_token(
    secret: str,
    receipt_id: int,
    now: datetime,
    validity: timedelta = RECEIPT_LINK_VALIDITY,
) -> str:
    """A token letting its holder download a receipt until now + validity."""
    return sign_file_token(_receipt_key(secret), receipt_id, now, validity)


def verify_receipt_token(secret: str, token: str, now: datetime) -> int:
    """The receipt id of a genuine, unexpired token; NotFound or LinkExpired otherwise."""
    return verify_file_token(_receipt_key(secret), token, now).document_id


def new_checkout_token() -> str:
    return secrets.token_urlsafe(CHECKOUT_TOKEN_BYTES)


def checkout_needs_refresh(expires_at: datetime | None, now: datetime) -> bool:
    """Whether a notice's checkout link is gone or about to go, so a new one is given."""
    return expires_at is None or expires_at <= now + CHECKOUT_REFRESH_MARGIN


def new_receipt_number(now: datetime) -> str:
    """An IUR as a payment service would assign it: the day and a random part."""
    return f"{now.astimezone(ROME):%Y%m%d}{secrets.token_hex(6).upper()}"


# --- errors -------------------------------------------------------------------------


class AlreadyPaid(Conflict):
    """The tax position is already paid: there is nothing to pay, no notice to issue."""

    def __init__(self, message: str = "this position is already paid") -> None:
        super().__init__(message)
