"""Hide a codice fiscale or a link code in lines the staff read: they need the gist, not the code."""

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
