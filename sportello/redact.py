"""Hide what points at a person in lines others read: a codice fiscale or a link code for the staff
(`redact`), and also e-mails, phones, IBANs, notice and protocol numbers for the figures
(`redact_personal`)."""

from __future__ import annotations

import re

# A codice fiscale: surname, name, year, month letter, day, birthplace, check letter. Digits may
# be letters (omocodia: 0-9 -> L M N P Q R S T U V). Any case: citizens type it in lowercase.
_DIGIT = "[0-9LMNPQRSTUV]"
_FISCAL_CODE = re.compile(
    rf"\b[A-Z]{{6}}{_DIGIT}{{2}}[ABCDEHLMPRST]{_DIGIT}{{2}}[A-Z]{_DIGIT}{{3}}[A-Z]\b", re.IGNORECASE
)
# A link code from the portal: 8 characters of the back office's alphabet (no 0, O, 1, I),
# written K7P2-QX9M, k7p2qx9m or "K7P2 QX9M".
_CODE_CHAR = "[A-HJ-NP-Z2-9]"
_LINK_CODE = re.compile(rf"\b{_CODE_CHAR}{{4}}([- ]?){_CODE_CHAR}{{4}}\b", re.IGNORECASE)
_HIDDEN_LINK_CODE = "****-****"


def _mask_fiscal_code(match: re.Match[str]) -> str:
    code = match.group(0).upper()
    return f"{code[:3]}{'*' * 11}{code[-2:]}"


def _mask_link_code(match: re.Match[str]) -> str:
    """A dash makes it a code; otherwise a digit does, or capitals in one word: "sentenza" and
    "CASA MARE" stay as they are."""
    text, separator = match.group(0), match.group(1)
    has_digit = any(c.isdigit() for c in text)
    looks_like_a_code = separator == "-" or has_digit or (not separator and text.isupper())
    return _HIDDEN_LINK_CODE if looks_like_a_code and any(c.isalpha() for c in text) else text


def redact(text: str) -> str:
    """The text with each codice fiscale (RSS***********1U) and link code (****-****) hidden."""
    return _LINK_CODE.sub(_mask_link_code, _FISCAL_CODE.sub(_mask_fiscal_code, text))


# What else a citizen may type that points at a person or a payment: an e-mail, an IBAN, a
# pagoPA notice number (18 digits, perhaps in groups), a protocol (2026/000123), a phone.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
_NOTICE = re.compile(r"(?<![\w/])\d(?:[ .]?\d){17}(?![\w/])")
_PROTOCOL = re.compile(r"\b(?:19|20)\d{2}\s*/\s*\d{1,6}\b")
_PHONE = re.compile(r"(?<![\w/])(?:\+|00)?\d(?:[ .-]?\d){5,}(?![\w/])")
_FULL_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EMAIL, "[email]"),
    (_IBAN, "[IBAN]"),
    (_FISCAL_CODE, "[codice fiscale]"),
    (_NOTICE, "[codice avviso]"),
    (_PROTOCOL, "[protocollo]"),
    (_PHONE, "[telefono]"),
)


def redact_personal(text: str) -> str:
    """The text with nothing that points at a person or a payment: e-mails, IBANs, codici
    fiscali, notice and protocol numbers, phones and link codes become a label in brackets."""
    for pattern, label in _FULL_MASKS:
        text = pattern.sub(label, text)
    return _LINK_CODE.sub(_mask_link_code, text)
