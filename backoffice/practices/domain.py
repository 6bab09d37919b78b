"""The rules of a pratica, with no I/O: its state machine, who may file what, the upload quota
and the checks on a certificate's intestatario."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from backoffice.db.models import PracticeStatus
from backoffice.errors import BackOfficeError, InvalidTransition, NotFound, TooManyAttempts
from backoffice.practices.certificates import CERTIFICATE_TITLES

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


def quota_retry_after(
    sent: Iterable[tuple[datetime, int]], size: int, now: datetime, quota: UploadQuota
) -> int | None:
    """None if one more file of `size` bytes fits after `sent` (oldest first, in the window);
    otherwise the seconds until it would, as the oldest uploads leave the window."""
    sent = list(sent)
    files, used = len(sent), sum(old_size for _, old_size in sent)
    if files + 1 <= quota.max_files and used + size <= quota.max_bytes:
        return None
    retry_at = now + UPLOAD_QUOTA_WINDOW
    for created_at, old_size in sent:
        files, used = files - 1, used - old_size
        if files + 1 <= quota.max_files and used + size <= quota.max_bytes:
            retry_at = created_at + UPLOAD_QUOTA_WINDOW
            break
    return max(1, int((retry_at - now).total_seconds()) + 1)


def is_certificate(practice_type: str) -> bool:
    """A certificate is issued at once, to a linked citizen, when it is asked for."""
    return practice_type in CERTIFICATE_TITLES


def may_file_anonymously(practice_type: str) -> bool:
    return practice_type in ANONYMOUS_PRACTICE_TYPES


def check_transition(from_status: str, to: str, note: str | None) -> None:
    """InvalidTransition off the lifecycle; InvalidData for an integration request without
    the list of what is missing."""
    if to not in ALLOWED_TRANSITIONS.get(from_status, frozenset()):
        raise InvalidTransition(f"a pratica cannot go from {from_status} to {to}")
    if to == PracticeStatus.INTEGRAZIONE_RICHIESTA and not (note and note.strip()):
        raise InvalidData({"note": "Scrivi quali documenti mancano: il cittadino lo leggerà."})


def check_takes_documents(status: str) -> None:
    if status not in OPEN_STATUSES:
        raise InvalidTransition(f"a pratica that is {status} takes no more documents")


def clean_note(note: str | None) -> str | None:
    return note.strip() if note and note.strip() else None


def certificate_subject_error(
    own_fiscal_code: str,
    has_address: bool,
    has_household: bool,
    practice_type: str,
    subject: str,
) -> str | None:
    """A certificate is issued at once only to its own intestatario, with a known residence
    (and, for stato di famiglia, a known family); otherwise the answer to give."""
    if subject != own_fiscal_code:
        return (
            "Da qui puoi chiedere solo certificati intestati a te: per un'altra persona "
            "rivolgiti allo sportello anagrafe."
        )
    if not has_address:
        return "Non trovo la tua residenza nell'anagrafe: chiedi il certificato allo sportello."
    if practice_type == "stato_famiglia" and not has_household:
        return "Non trovo la tua famiglia nell'anagrafe: chiedi lo stato di famiglia allo sportello anagrafe."
    return None


# --- errors -------------------------------------------------------------------------


class PracticeNotFound(NotFound):
    """No pratica has this protocol, or the caller may not see it (the two look the same)."""

    def __init__(self, message: str = "no such pratica") -> None:
        super().__init__(message)


class UploadQuotaExceeded(TooManyAttempts):
    """The citizen sent as many files (or megabytes) as a day allows."""

    def __init__(self, retry_after: int, max_files: int, max_mb: int) -> None:
        super().__init__(
            f"at most {max_files} files and {max_mb} MB in 24 hours", retry_after
        )
        self.max_files = max_files
        self.max_mb = max_mb

    @property
    def details(self) -> dict[str, object]:
        return {"max_files": self.max_files, "max_mb": self.max_mb}


class InvalidData(BackOfficeError):
    """The data of a pratica does not fit its type's form: one Italian message per field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("the data does not fit the pratica type's fields")
        self.fields = fields


class FileTooLarge(BackOfficeError):
    """An upload is bigger than the limit."""


class UnsupportedFileType(BackOfficeError):
    """An upload is not a PDF, JPEG or PNG (judged by its bytes, not its name)."""
