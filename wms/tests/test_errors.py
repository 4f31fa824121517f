"""``wms.errors.DomainError`` and the one form bridge, ``wms.forms.DomainErrorFormMixin``."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from freezes.exceptions import FreezeClosed
from inventory.exceptions import DuplicateSku, GoodsError, InsufficientStock, StockError
from inventory.imports.errors import ImportRefused
from warehouses.exceptions import DuplicateCode, InvalidInput, WarehouseDomainError
from wms.errors import DomainError
from wms.forms import DomainErrorFormMixin


class SkuForm(DomainErrorFormMixin, forms.Form):
    sku = forms.CharField()
    name = forms.CharField()


def test_every_app_error_base_is_a_domain_error():
    # given / when / then
    for base in (StockError, GoodsError, WarehouseDomainError, ImportRefused, FreezeClosed):
        assert issubclass(base, DomainError)


def test_domain_error_carries_message_field_and_code():
    # given
    error = DomainError("Bin A-01 is inactive.", field="bin", code="bin_inactive")

    # when / then
    assert str(error) == "Bin A-01 is inactive."
    assert error.field == "bin"
    assert error.code == "bin_inactive"
    assert error.message_dict == {"bin": ["Bin A-01 is inactive."]}
    assert isinstance(error.as_validation_error(), ValidationError)


def test_class_defaults_give_field_and_code_unless_overridden():
    # given
    duplicate = DuplicateSku("SKU taken.")
    short = InsufficientStock(requested=5, available=2, goods_label="A-1")

    # when / then
    assert (duplicate.field, duplicate.code) == ("sku", "duplicate_sku")
    assert (short.field, short.code, short.shortfall) == (None, "insufficient_stock", 3)
    assert short.message_dict == {NON_FIELD_ERRORS: [str(short)]}
    assert DuplicateSku("x", field="name").field == "name"


def test_mixin_puts_a_field_error_on_its_field():
    # given
    form = SkuForm({"sku": "A-1", "name": "Tea"})
    assert form.is_valid()

    # when
    form.add_domain_error(DuplicateSku("SKU A-1 is already used."))

    # then
    assert form.errors == {"sku": ["SKU A-1 is already used."]}


def test_mixin_puts_an_error_without_a_known_field_on_the_form():
    # given
    form = SkuForm({"sku": "A-1", "name": "Tea"})
    assert form.is_valid()

    # when
    form.add_domain_error(DomainError("Warehouse closed.", field="warehouse"))
    form.add_domain_error(InsufficientStock(requested=2, available=0, goods_label="A-1"))

    # then
    assert list(form.errors) == [NON_FIELD_ERRORS]
    assert len(form.non_field_errors()) == 2


def test_mixin_takes_every_message_of_a_multi_field_error_and_an_explicit_field():
    # given
    form = SkuForm({"sku": "A-1", "name": "Tea"})
    assert form.is_valid()

    # when
    form.add_domain_error(InvalidInput({"sku": ["Too long."], "name": ["Blank."]}))
    form.add_domain_error(DuplicateCode("Code used."), field="name")

    # then
    assert form.errors == {"sku": ["Too long."], "name": ["Blank.", "Code used."]}
