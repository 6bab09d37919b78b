"""pagoPA notice numbers, QR payloads and their QR codes, money formats (no database)."""

from __future__ import annotations

import io
import re
from datetime import date

import qrcode
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from backoffice.db.models import TaxStatus
from backoffice.taxes.domain import (
    check_digits,
    is_valid_notice_number,
    new_notice_number,
    normalise_notice_number,
    notice_number,
    position_status,
    qr_payload,
    usable_notice_number,
)
from sportello.formatting import euro, grouped

PAYLOAD = re.compile(r"PAGOPA\|002\|\d{18}\|\d{11}\|\d+")
digits = st.integers(min_value=0, max_value=9).map(str)
segregation_codes = st.text("0123456789", min_size=2, max_size=2)
iuvs = st.text("0123456789", min_size=13, max_size=13)
fiscal_codes = st.text("0123456789", min_size=11, max_size=11)
cents = st.integers(min_value=1, max_value=99_999_999_99)


def qr_png(payload: str) -> bytes:
    """As bot/render.py draws a notice's QR code: ISO 18004, error correction M, PNG."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4
    )
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


def decode_qr(png: bytes) -> str:
    """Read a QR code back with a real decoder (ZXing), as a banking app would."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


def test_the_check_digits_match_the_published_test_vector() -> None:
    # aux digit 0, application code 01, IUV 3400000001390, remainder 8.
    assert check_digits("0013400000139008") == "08"
    assert is_valid_notice_number("001340000013900808")
    assert not is_valid_notice_number("001340000013900807")
    assert not is_valid_notice_number("00134000001390080")
    assert not is_valid_notice_number("00134000001390080a")


@given(segregation_codes, iuvs)
def test_every_built_notice_number_is_18_valid_digits_starting_with_3(
    segregation: str, iuv: str
) -> None:
    number = notice_number(segregation, iuv)

    assert re.fullmatch(r"\d{18}", number)
    assert number.startswith("3" + segregation)
    assert number[3:16] == iuv
    assert is_valid_notice_number(number)
    assert usable_notice_number(number)


@given(segregation_codes, iuvs, st.integers(min_value=0, max_value=17), digits)
def test_changing_any_one_digit_makes_a_notice_number_invalid(
    segregation: str, iuv: str, position: int, digit: str
) -> None:
    number = notice_number(segregation, iuv)
    changed = number[:position] + digit + number[position + 1 :]

    # 93 is prime to 10 and larger than 9: no single-digit change keeps the remainder.
    assert is_valid_notice_number(changed) == (changed == number)


@given(segregation_codes, st.dates(min_value=date(2000, 1, 1)))
def test_fresh_notice_numbers_are_valid_and_carry_the_segregation_code(
    segregation: str, today: date
) -> None:
    number = new_notice_number(segregation, today)

    assert is_valid_notice_number(number)
    assert number.startswith("3" + segregation + f"{today.year % 100:02d}")


@given(segregation_codes, iuvs, fiscal_codes, cents)
def test_every_payload_has_the_pagopa_shape(
    segregation: str, iuv: str, fiscal_code: str, amount: int
) -> None:
    number = notice_number(segregation, iuv)

    payload = qr_payload(number, fiscal_code, amount)

    assert PAYLOAD.fullmatch(payload)
    assert payload == f"PAGOPA|002|{number}|{fiscal_code}|{amount}"


def test_the_payload_is_exactly_the_documented_one() -> None:
    assert (
        qr_payload("301260000000000274", "01234560587", 14350)
        == "PAGOPA|002|301260000000000274|01234560587|14350"
    )


def test_a_notice_qr_code_decodes_back_to_its_payload() -> None:
    payload = qr_payload(notice_number("01", "2600000000002"), "01234560587", 14350)

    assert decode_qr(qr_png(payload)) == payload


@settings(max_examples=20, deadline=None)
@given(segregation_codes, iuvs, fiscal_codes, cents)
def test_any_notice_qr_code_decodes_back_to_its_payload(
    segregation: str, iuv: str, fiscal_code: str, amount: int
) -> None:
    payload = qr_payload(notice_number(segregation, iuv), fiscal_code, amount)

    assert decode_qr(qr_png(payload)) == payload


def test_only_valid_numbers_with_aux_digit_3_are_handed_out_as_they_are() -> None:
    assert usable_notice_number(notice_number("01", "2600000000001"))
    assert not usable_notice_number("001340000013900808")  # aux digit 0
    assert not usable_notice_number("301260000000000275")  # wrong check digits
    assert not usable_notice_number(None)


def test_printed_notice_numbers_are_read_without_their_spaces() -> None:
    number = notice_number("01", "2600000000002")

    assert grouped(number) == "3012 6000 0000 0002 74"
    assert normalise_notice_number(grouped(number)) == number
    assert normalise_notice_number("3012-6000-0000-0002-74") == number


def test_amounts_are_written_the_italian_way_from_integer_cents() -> None:
    assert euro(14350) == "143,50\xa0€"
    assert euro(6000) == "60,00\xa0€"
    assert euro(123456) == "1.234,56\xa0€"
    assert euro(1) == "0,01\xa0€"


def test_an_unpaid_instalment_past_its_due_date_is_overdue_whatever_was_stored() -> None:
    today = date(2026, 11, 26)

    assert position_status("da_pagare", date(2026, 11, 25), today) == TaxStatus.SCADUTO
    assert position_status("da_pagare", today, today) == TaxStatus.DA_PAGARE
    assert position_status("scaduto", date(2026, 12, 16), today) == TaxStatus.DA_PAGARE
    assert position_status("pagato", date(2026, 1, 1), today) == TaxStatus.PAGATO
