"""``ledger.check_quantity``: the one quantity check the services and the ledger share."""

import pytest

from inventory import ledger
from inventory.exceptions import InvalidQuantity


@pytest.mark.parametrize("value", [1, 7, ledger.MAX_QUANTITY])
def test_whole_numbers_in_range_pass_and_come_back(value):
    assert ledger.check_quantity(value) == value


@pytest.mark.parametrize("value", [0, -1, 1.0, "3", None, True])
def test_a_quantity_must_be_a_whole_number_above_zero(value):
    with pytest.raises(InvalidQuantity, match="greater than zero"):
        ledger.check_quantity(value)


def test_zero_is_allowed_for_counts_and_receipts_but_not_below():
    assert ledger.check_quantity(0, minimum=0) == 0
    with pytest.raises(InvalidQuantity, match="0 or more"):
        ledger.check_quantity(-1, minimum=0)


def test_more_than_the_maximum_is_refused_whatever_the_minimum():
    for minimum in (0, 1):
        with pytest.raises(InvalidQuantity, match="may not exceed"):
            ledger.check_quantity(ledger.MAX_QUANTITY + 1, minimum=minimum)
