"""Reading scanned codes: GTIN check digits and GS1-128 element strings (no database)."""

import contextlib
import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.codes import (
    CodeError,
    gs1_date,
    gs1_element_string,
    gs1_human_readable,
    gtin_check_digit,
    gtin_forms,
    is_valid_gtin,
    looks_like_gs1,
    normalize_scan,
    parse_gs1,
)

digits = st.text(alphabet="0123456789", min_size=1, max_size=13)
batch_text = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./",
    min_size=1,
    max_size=20,
)


def with_check_digit(body: str) -> str:
    return body + str(gtin_check_digit(body))


def test_known_check_digits():
    # given published examples (GS1 and a UPC-A on a US product)
    # then
    assert is_valid_gtin("4006381333931")  # EAN-13
    assert is_valid_gtin("036000291452")  # UPC-A
    assert is_valid_gtin("96385074")  # EAN-8
    assert is_valid_gtin("09501101530003")  # GTIN-14 (GS1's example)
    assert not is_valid_gtin("4006381333932")
    assert not is_valid_gtin("036000291453")
    assert not is_valid_gtin("40063813339")  # 11 digits is no GTIN
    assert not is_valid_gtin("400638133393X")


@given(digits)
def test_a_computed_check_digit_validates_and_any_other_digit_does_not(body):
    # given a body of a GTIN length
    if len(body) + 1 not in (8, 12, 13, 14):
        return
    full = with_check_digit(body)
    # then
    assert is_valid_gtin(full)
    for wrong in set("0123456789") - {full[-1]}:
        assert not is_valid_gtin(full[:-1] + wrong)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_a_upc_a_is_the_same_gtin_as_its_ean13_and_gtin14(body):
    # given a UPC-A
    upc = with_check_digit(body)
    # when
    forms = gtin_forms(upc)
    # then the EAN-13 and GTIN-14 spellings are the UPC with leading zeros, all valid
    assert forms[0] == "00" + upc
    assert "0" + upc in forms and upc in forms
    assert all(is_valid_gtin(form) for form in forms)
    assert gtin_forms("0" + upc)[0] == forms[0]


def test_gtin_forms_of_a_non_gtin_is_empty():
    assert gtin_forms("SKU-1") == []
    assert gtin_forms("4006381333932") == []


def test_gs1_raw_with_group_separators_reads_gtin_batch_and_expiry():
    # given what a scanner sends for (01)09501101530003(10)LOT-7(17)271231
    scanned = "]C101095011015300031" + "0LOT-7\x1d17271231"
    # when
    data = parse_gs1(scanned)
    # then
    assert data.gtin == "09501101530003"
    assert data.batch == "LOT-7"
    assert data.expiry == datetime.date(2027, 12, 31)


@pytest.mark.parametrize("separator", ["\x1d", "<GS>", "^]", "\xf1", "\u241d"])
def test_every_spelling_of_the_group_separator_is_understood(separator):
    # given a variable-length batch followed by more data
    scanned = f"0109501101530003{'10'}AB12{separator}17270600"
    # when
    data = parse_gs1(scanned)
    # then day 00 is the month's last day
    assert data.batch == "AB12"
    assert data.expiry == datetime.date(2027, 6, 30)


def test_bracketed_human_readable_form():
    data = parse_gs1("(01)09501101530003(17)280229(10)X 1")
    assert data.gtin == "09501101530003"
    assert data.expiry == datetime.date(2028, 2, 29)
    assert data.batch == "X 1"


@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        ("0109501101530004", "gs1_check_digit"),  # wrong GTIN check digit
        ("01095011015300031727", "gs1_length"),  # expiry cut short
        ("0109501101530003172713" + "01", "gs1_date"),  # month 13
        ("0109501101530003991234", "gs1_unknown_ai"),  # 99 is company internal: refused
        ("(01)09501101530003(01)09501101530003", "gs1_repeated"),
        ("(01)09501101530003junk", "gs1_length"),
        ("(01)09501101530003)x", "gs1_syntax"),
        ("01095011015300031012345678901234567890X", "gs1_length"),  # batch over 20
        ("(17)2712AB", "gs1_digits"),
    ],
)
def test_unreadable_gs1_is_refused_whole(scanned, code):
    with pytest.raises(CodeError) as error:
        parse_gs1(scanned)
    assert error.value.code == code


@given(
    gtin_body=st.text(alphabet="0123456789", min_size=13, max_size=13),
    batch=batch_text,
    expiry=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2060, 12, 31)),
    batch_first=st.booleans(),
)
def test_what_a_label_encodes_parses_back(gtin_body, batch, expiry, batch_first):
    # given the elements a goods label prints, in either order
    gtin = with_check_digit(gtin_body)
    elements = [("01", gtin), ("10", batch), ("17", expiry.strftime("%y%m%d"))]
    if batch_first:
        elements = [elements[1], elements[0], elements[2]]
    # when the label's data is scanned (FNC1 sent as GS) or its text typed
    scanned = gs1_element_string(elements).replace("\xf1", "\x1d")
    for text in (scanned, "]C1" + scanned, gs1_human_readable(elements)):
        data = parse_gs1(text)
        # then the same elements come back
        assert data.gtin == gtin
        assert data.batch == batch.strip()
        assert data.expiry == gs1_date(expiry.strftime("%y%m%d"))


@given(st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2070, 12, 31)))
def test_gs1_dates_land_within_fifty_years_of_today(day):
    read = gs1_date(day.strftime("%y%m%d"))
    assert read is not None
    assert read.strftime("%y%m%d") == day.strftime("%y%m%d")
    assert -50 <= read.year - datetime.date.today().year <= 50  # noqa: DTZ011


def test_looks_like_gs1_tells_gs1_from_plain_codes():
    assert looks_like_gs1("]C10109501101530003")
    assert looks_like_gs1("(01)09501101530003")
    assert looks_like_gs1("0109501101530003" + "10A")
    assert looks_like_gs1("A\x1dB")
    assert not looks_like_gs1("09501101530003")  # a bare GTIN-14 is a barcode
    assert not looks_like_gs1("4006381333931")
    assert not looks_like_gs1("SKU-01")
    assert not looks_like_gs1("(not gs1)")


def test_normalize_scan_strips_wedge_noise():
    assert normalize_scan("  A-01\r\n") == "A-01"
    assert normalize_scan("10A<GS>17") == "10A\x1d17"
    assert normalize_scan(None) == ""


@given(st.text(max_size=60))
def test_parse_gs1_never_fails_other_than_with_code_error(text):
    with contextlib.suppress(CodeError):
        parse_gs1(text)
