"""pagoPA notice numbers (codice avviso): building and checking them."""

from __future__ import annotations

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
