"""Forms of the stock screens: parsing and field validation only.

Goods are typed by SKU (or barcode) and bins by code, as a clerk reads them off a label or scans
them on a phone; the forms resolve them to rows and say plainly when one does not exist. Business
rules (stock available, bin of the right warehouse, posted documents) are the services' and the
ledger's: their typed errors come back through ``form.add_domain_error`` (``wms.forms``).
"""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.codes import (
    CodeError,
    GS1Data,
    gtin_forms,
    looks_like_gs1,
    normalize_scan,
    parse_gs1,
)
from inventory.ledger import MAX_QUANTITY
from inventory.models import Batch, Goods, InboundSheet, OutboundSheet
from inventory.selectors.goods import goods_by_code
from warehouses.models import Bin, Warehouse
from wms.forms import DomainErrorFormMixin
from wms.widgets import PickerWidget


def _quantity_field(label=None, minimum: int = 1) -> forms.IntegerField:
    return forms.IntegerField(
        label=label or _("Quantity"),
        min_value=minimum,
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _active_warehouses():
    return Warehouse.objects.filter(is_active=True).order_by("priority", "code")


def find_bin(warehouse_id: int, code: str) -> Bin | None:
    code = (code or "").strip()
    if not code:
        return None
    return (
        Bin.objects.filter(warehouse_id=warehouse_id, code__iexact=code)
        .select_related("warehouse", "zone")
        .first()
    )


def scanned_gs1(text: str) -> GS1Data | None:
    """The GS1 element string a scanner typed into a goods field (GTIN, batch, expiry), or None
    when the text is a plain SKU or barcode or cannot be read as GS1."""
    text = normalize_scan(text)
    if not text or not looks_like_gs1(text):
        return None
    try:
        return parse_gs1(text)
    except CodeError:
        return None


class GoodsChoiceField(forms.ModelChoiceField):
    """One goods out of ``queryset``, typed or scanned by SKU or barcode and searched as you type
    (``PickerWidget("goods")``): a choice field without a drop-down of the whole catalogue. A
    code that names no goods of the queryset (unknown, inactive, a combo where only plain goods
    may be offered...) is refused with the code in the message."""

    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("widget", PickerWidget("goods"))
        kwargs.setdefault("label", _("Goods (SKU or barcode)"))
        super().__init__(queryset, to_field_name="sku", **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Goods):
            value = value.sku
        code = str(value).strip()
        found = goods_by_code(code)
        if found is None or not self.queryset.filter(pk=found.pk).exists():
            raise forms.ValidationError(
                _("No goods %(code)s that can be chosen here."), params={"code": code[:64]}
            )
        return found


class GoodsField(forms.CharField):
    """A goods typed as its SKU or barcode, or scanned as a GS1-128 label (its GTIN names the
    goods; the forms take its batch and expiry too, see ``_WarehouseBound``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Goods (SKU or barcode)"))
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"})
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        gs1 = scanned_gs1(value)
        if gs1 is not None and gs1.gtin:
            goods = Goods.objects.filter(barcode__in=gtin_forms(gs1.gtin)).first()
            if goods is None:
                raise forms.ValidationError(
                    _("No goods with the barcode %(v)s (GTIN of the scanned label)."),
                    params={"v": gs1.gtin},
                )
            return goods
        goods = goods_by_code(value)
        if goods is None:
            raise forms.ValidationError(
                _("No goods with SKU or barcode %(v)s."), params={"v": value}
            )
        return goods


class _WarehouseBound(DomainErrorFormMixin, forms.Form):
    """A form whose bin codes are resolved inside one warehouse."""

    bin_fields: tuple[str, ...] = ()

    def __init__(self, *args, warehouse_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.warehouse_id = warehouse_id
        self._use_pickers()

    def clean(self):
        cleaned = super().clean()
        self._fill_from_gs1(cleaned)
        return cleaned

    def _fill_from_gs1(self, cleaned: dict) -> None:
        """A GS1-128 label scanned into the goods field fills an empty batch number (10) and an
        empty expiry date (17), so one scan names goods, batch and expiry."""
        gs1 = scanned_gs1(self.data.get(self.add_prefix("goods"), "")) if self.is_bound else None
        if gs1 is None:
            return
        if gs1.batch and "batch_no" in self.fields and not cleaned.get("batch_no"):
            cleaned["batch_no"] = gs1.batch
        if gs1.expiry and "expiry_date" in self.fields and not cleaned.get("expiry_date"):
            cleaned["expiry_date"] = gs1.expiry

    def _use_pickers(self) -> None:
        """Goods, bins and batches search as you type (wms.widgets.PickerWidget); the fields
        still take a typed or scanned code. Bins are limited to the form's warehouse (fixed, or
        the warehouse chosen in the form), batches to the goods typed in the form."""
        warehouse = self["warehouse"].auto_id if "warehouse" in self.fields else self.warehouse_id
        if "goods" in self.fields:
            attrs = self.fields["goods"].widget.attrs
            self.fields["goods"].widget = PickerWidget("goods", attrs=attrs)
        for name in self.bin_fields:
            if warehouse:
                self.fields[name].widget = PickerWidget("bin", params={"warehouse": warehouse})
        if "batch_no" in self.fields and "goods" in self.fields:
            self.fields["batch_no"].widget = PickerWidget(
                "batch", params={"sku": self["goods"].auto_id}
            )

    def _resolve_bins(self, cleaned: dict) -> None:
        for name in self.bin_fields:
            code = cleaned.get(name)
            if not code:
                cleaned[name] = None
                continue
            warehouse = cleaned.get("warehouse")
            warehouse_id = warehouse.pk if warehouse else self.warehouse_id
            found = find_bin(warehouse_id, code) if warehouse_id else None
            if found is None:
                self.add_error(name, _("No bin %(code)s in this warehouse.") % {"code": code})
            cleaned[name] = found

    def _resolve_batch(self, cleaned: dict, *, field: str = "batch_no") -> None:
        batch_no = (cleaned.get(field) or "").strip()
        goods = cleaned.get("goods")
        cleaned["batch"] = None
        if not batch_no or goods is None:
            return
        batch = Batch.objects.filter(goods=goods, batch_no=batch_no).first()
        if batch is None:
            self.add_error(
                field, _("%(sku)s has no batch %(batch)s.") % {"sku": goods.sku, "batch": batch_no}
            )
        cleaned["batch"] = batch


# --- sheets ---------------------------------------------------------------------------------


class InboundSheetForm(DomainErrorFormMixin, forms.Form):
    warehouse = forms.ModelChoiceField(queryset=_active_warehouses(), label=_("Warehouse"))
    type = forms.ChoiceField(choices=InboundSheet.Type.choices, label=_("Type"))
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class OutboundSheetForm(DomainErrorFormMixin, forms.Form):
    warehouse = forms.ModelChoiceField(queryset=_active_warehouses(), label=_("Warehouse"))
    type = forms.ChoiceField(choices=OutboundSheet.Type.choices, label=_("Type"))
    reference = forms.CharField(
        label=_("Reference"), max_length=100, required=False, help_text=_("Order number.")
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    allow_expired = forms.BooleanField(label=_("Ship expired batches"), required=False)
    expired_reason = forms.CharField(
        label=_("Reason for shipping expired batches"), max_length=255, required=False
    )

    def __init__(self, *args, may_ship_expired: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_ship_expired:
            del self.fields["allow_expired"]
            del self.fields["expired_reason"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("allow_expired") and not (cleaned.get("expired_reason") or "").strip():
            self.add_error("expired_reason", _("Give a reason for shipping expired batches."))
        return cleaned


class InboundLineForm(_WarehouseBound):
    goods = GoodsField()
    bin = forms.CharField(label=_("Bin"), max_length=32)
    quantity = _quantity_field()
    batch_no = forms.CharField(label=_("Batch number"), max_length=64, required=False)
    production_date = forms.DateField(
        label=_("Production date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    expiry_date = forms.DateField(
        label=_("Expiry date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    bin_fields = ("bin",)

    def clean(self):
        cleaned = super().clean()
        self._resolve_bins(cleaned)
        if (cleaned.get("production_date") or cleaned.get("expiry_date")) and not (
            cleaned.get("batch_no") or ""
        ).strip():
            self.add_error("batch_no", _("Dates belong to a batch: give its number."))
        return cleaned


class OutboundLineForm(_WarehouseBound):
    goods = GoodsField()
    quantity = _quantity_field()
    bin = forms.CharField(
        label=_("Bin"), max_length=32, required=False, help_text=_("Empty: any bin.")
    )
    batch_no = forms.CharField(
        label=_("Batch number"),
        max_length=64,
        required=False,
        help_text=_("Empty: first expiry first out."),
    )
    from_frozen = forms.BooleanField(label=_("From frozen stock"), required=False)
    bin_fields = ("bin",)

    def __init__(self, *args, allow_frozen: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_frozen:
            del self.fields["from_frozen"]

    def clean(self):
        cleaned = super().clean()
        self._resolve_bins(cleaned)
        self._resolve_batch(cleaned)
        return cleaned


class ReasonForm(DomainErrorFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=200, widget=forms.TextInput(attrs={"autofocus": True})
    )


# --- transfers ------------------------------------------------------------------------------


def new_token() -> str:
    """A one-time token a form carries, so posting it twice posts once."""
    return uuid.uuid4().hex


class BinTransferForm(_WarehouseBound):
    warehouse = forms.ModelChoiceField(queryset=_active_warehouses(), label=_("Warehouse"))
    goods = GoodsField()
    batch_no = forms.CharField(label=_("Batch number"), max_length=64, required=False)
    from_bin = forms.CharField(label=_("From bin"), max_length=32)
    to_bin = forms.CharField(label=_("To bin"), max_length=32)
    quantity = _quantity_field()
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    bin_fields = ("from_bin", "to_bin")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("warehouse"):
            self._resolve_bins(cleaned)
        self._resolve_batch(cleaned)
        if cleaned.get("from_bin") and cleaned.get("from_bin") == cleaned.get("to_bin"):
            self.add_error("to_bin", _("Choose another bin than the source."))
        return cleaned


class TransferForm(DomainErrorFormMixin, forms.Form):
    from_warehouse = forms.ModelChoiceField(
        queryset=_active_warehouses(), label=_("From warehouse")
    )
    to_warehouse = forms.ModelChoiceField(queryset=_active_warehouses(), label=_("To warehouse"))
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("from_warehouse") and cleaned.get("from_warehouse") == cleaned.get(
            "to_warehouse"
        ):
            self.add_error("to_warehouse", _("Choose two different warehouses."))
        return cleaned


class TransferLineForm(_WarehouseBound):
    goods = GoodsField()
    batch_no = forms.CharField(label=_("Batch number"), max_length=64, required=False)
    from_bin = forms.CharField(label=_("From bin"), max_length=32)
    quantity = _quantity_field()
    bin_fields = ("from_bin",)

    def clean(self):
        cleaned = super().clean()
        self._resolve_bins(cleaned)
        self._resolve_batch(cleaned)
        return cleaned


class TransferReceiveForm(DomainErrorFormMixin, forms.Form):
    """One row per transfer line: destination bin, units that arrived, reason of a shortfall."""

    def __init__(self, *args, transfer, **kwargs):
        super().__init__(*args, **kwargs)
        self.transfer = transfer
        for line in transfer.line_rows:
            self.fields[f"bin_{line.pk}"] = forms.CharField(
                label=_("Into bin"), max_length=32, required=False
            )
            self.fields[f"received_{line.pk}"] = forms.IntegerField(
                label=_("Received"), min_value=0, max_value=line.quantity, initial=line.quantity
            )
            self.fields[f"reason_{line.pk}"] = forms.CharField(
                label=_("Discrepancy reason"), max_length=255, required=False
            )

    def rows(self):
        for line in self.transfer.line_rows:
            yield (
                line,
                self[f"bin_{line.pk}"],
                self[f"received_{line.pk}"],
                self[f"reason_{line.pk}"],
            )

    def clean(self):
        cleaned = super().clean()
        for line in self.transfer.line_rows:
            code = cleaned.get(f"bin_{line.pk}")
            received = cleaned.get(f"received_{line.pk}")
            target = find_bin(self.transfer.to_warehouse_id, code) if code else None
            if code and target is None:
                self.add_error(
                    f"bin_{line.pk}", _("No bin %(code)s in this warehouse.") % {"code": code}
                )
            if received and not code:
                self.add_error(f"bin_{line.pk}", _("Choose the bin the units go into."))
            if (
                received is not None
                and received < line.quantity
                and not (cleaned.get(f"reason_{line.pk}") or "").strip()
            ):
                self.add_error(f"reason_{line.pk}", _("Explain why units are missing."))
            cleaned[f"target_{line.pk}"] = target
        return cleaned


# --- counts ---------------------------------------------------------------------------------


class CountForm(DomainErrorFormMixin, forms.Form):
    warehouse = forms.ModelChoiceField(queryset=_active_warehouses(), label=_("Warehouse"))
    reason = forms.CharField(label=_("Reason"), max_length=255)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CountLineForm(_WarehouseBound):
    goods = GoodsField()
    bin = forms.CharField(label=_("Bin"), max_length=32)
    batch_no = forms.CharField(label=_("Batch number"), max_length=64, required=False)
    counted = _quantity_field(label=_("Counted"), minimum=0)
    bin_fields = ("bin",)

    def clean(self):
        cleaned = super().clean()
        self._resolve_bins(cleaned)
        self._resolve_batch(cleaned)
        return cleaned
