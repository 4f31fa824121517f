"""Forms of the freezes screens: parsing and field checks only; the services decide."""

from __future__ import annotations

import hashlib
import json
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from freezes.models import FreezeLine, FreezeRule, QualityInspection, Reason, ReleaseMode
from freezes.scope import Scope
from freezes.services.freezing import SHIP_OUT_KINDS
from inventory import ledger
from inventory.models import Batch, Brand, Category, Goods
from inventory.selectors.goods import goods_by_code
from warehouses.models import Bin, Warehouse
from wms.forms import DomainErrorFormMixin
from wms.widgets import PickerWidget

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
SHIP_OUT_LABELS = {"scrap": _("Scrap"), "purchase_return": _("Purchase return")}
#: Longest submit token accepted: it becomes an idempotency key (at most 80 characters stored).
TOKEN_MAX = 64


def token_field() -> forms.CharField:
    """The hidden submit token of a form that posts (its idempotency key)."""
    return forms.CharField(widget=forms.HiddenInput, required=False, max_length=TOKEN_MAX)


def explain_token_error(form: forms.Form) -> None:
    """A refused hidden token would be an invisible field error: say it above the form."""
    if form.has_error("token"):
        form.add_error(None, _("This form was changed outside its page: open it again."))


class FreezeForm(DomainErrorFormMixin, forms.Form):
    """A manual freeze: the scope (any combination), all or a quantity, reason and options.

    Goods, batch and bin are typed or scanned (SKU, batch number, bin code) and search as you
    type (``wms.widgets.PickerWidget``: catalogues are too long for a drop-down); bins are
    offered from the chosen warehouse, batches of the goods typed. ``token`` is the idempotency key of the submit; ``digest`` ties a confirmation
    to the preview the user saw."""

    goods = forms.CharField(label=_("Goods SKU"), max_length=64, required=False)
    batch = forms.CharField(label=_("Batch number"), max_length=64, required=False)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.active(), required=False
    )
    bin = forms.CharField(label=_("Bin code"), max_length=32, required=False)
    category = forms.ModelChoiceField(
        label=_("Category (with sub-categories)"),
        queryset=Category.objects.order_by("name"),
        required=False,
    )
    brand = forms.ModelChoiceField(
        label=_("Brand"), queryset=Brand.objects.order_by("name"), required=False
    )
    inbound_from = forms.DateField(label=_("Inbound from"), required=False, widget=DATE_INPUT)
    inbound_to = forms.DateField(label=_("Inbound to"), required=False, widget=DATE_INPUT)
    produced_from = forms.DateField(label=_("Produced from"), required=False, widget=DATE_INPUT)
    produced_to = forms.DateField(label=_("Produced to"), required=False, widget=DATE_INPUT)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        required=False,
        help_text=_("Leave empty to freeze everything that matches; else first-expiry-first."),
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=Reason.choices)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_sticky = forms.BooleanField(
        label=_("Also freeze matching stock that arrives while this freeze is active"),
        required=False,
    )
    release_on_qc_pass = forms.BooleanField(label=_("Release when QC passes"), required=False)
    release_at = forms.DateTimeField(
        label=_("Release automatically at"),
        required=False,
        widget=DATETIME_INPUT,
        input_formats=DATETIME_FORMATS,
    )
    token = token_field()
    digest = forms.CharField(widget=forms.HiddenInput, required=False)

    SCOPE_FIELDS = (
        "goods",
        "batch",
        "warehouse",
        "bin",
        "category",
        "brand",
        "inbound_from",
        "inbound_to",
        "produced_from",
        "produced_to",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4().hex)
        self.fields["goods"].widget = PickerWidget("goods")
        self.fields["batch"].widget = PickerWidget("batch", params={"sku": self["goods"].auto_id})
        self.fields["bin"].widget = PickerWidget(
            "bin", params={"warehouse": self["warehouse"].auto_id}
        )

    def scope_fields(self) -> list:
        return [self[name] for name in self.SCOPE_FIELDS]

    def clean_goods(self) -> Goods | None:
        sku = (self.cleaned_data.get("goods") or "").strip()
        if not sku:
            return None
        goods = goods_by_code(sku, barcode=False)
        if goods is None:
            raise forms.ValidationError(_("No goods has the SKU %(sku)s.") % {"sku": sku})
        return goods

    def clean(self) -> dict:
        data = super().clean()
        explain_token_error(self)
        goods = data.get("goods")
        batch_no = (data.get("batch") or "").strip()
        data["batch"] = None
        if batch_no:
            batches = Batch.objects.filter(batch_no__iexact=batch_no)
            if goods is not None:
                batches = batches.filter(goods=goods)
            found = list(batches[:2])
            if not found:
                self.add_error("batch", _("No batch has this number."))
            elif len(found) > 1:
                self.add_error("batch", _("Several goods have this batch number: give the SKU."))
            else:
                data["batch"] = found[0]
        code = (data.get("bin") or "").strip()
        data["bin"] = None
        if code:
            bins = Bin.objects.filter(code__iexact=code)
            if data.get("warehouse") is not None:
                bins = bins.filter(warehouse=data["warehouse"])
            found = list(bins[:2])
            if not found:
                self.add_error("bin", _("No bin has this code."))
            elif len(found) > 1:
                self.add_error("bin", _("Several warehouses have this bin code: pick one."))
            else:
                data["bin"] = found[0]
        return data

    def scope(self) -> Scope:
        data = self.cleaned_data

        def pk(name: str) -> int | None:
            value = data.get(name)
            return value.pk if value is not None else None

        return Scope(
            warehouse_id=pk("warehouse"),
            goods_id=pk("goods"),
            batch_id=pk("batch"),
            bin_id=pk("bin"),
            category_id=pk("category"),
            brand_id=pk("brand"),
            inbound_from=data.get("inbound_from"),
            inbound_to=data.get("inbound_to"),
            produced_from=data.get("produced_from"),
            produced_to=data.get("produced_to"),
        )

    def preview_digest(self) -> str:
        """A fingerprint of what the preview showed (scope and quantity)."""
        payload = {**self.scope().as_model_fields(), "quantity": self.cleaned_data.get("quantity")}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


AUTO_RELEASE_HELP = _(
    "Setting or bringing forward an automatic release needs the permission to approve "
    "releases, and someone other than the person who froze the stock."
)


class FreezeEditForm(DomainErrorFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    release_on_qc_pass = forms.BooleanField(label=_("Release when QC passes"), required=False)
    release_at = forms.DateTimeField(
        label=_("Release automatically at"),
        required=False,
        widget=DATETIME_INPUT,
        input_formats=DATETIME_FORMATS,
        help_text=AUTO_RELEASE_HELP,
    )


class LineChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, line: FreezeLine) -> str:
        balance = line.balance
        batch = f" · {balance.batch.batch_no}" if balance.batch_id else ""
        return _("%(sku)s in %(bin)s%(batch)s: %(held)s held") % {
            "sku": balance.goods.sku,
            "bin": balance.bin.code,
            "batch": batch,
            "held": line.held,
        }


def _held_lines(freeze) -> object:
    return (
        FreezeLine.objects.held()
        .filter(freeze=freeze)
        .select_related("balance__goods", "balance__bin", "balance__batch")
        .order_by("pk")
    )


class ReleaseRequestForm(DomainErrorFormMixin, forms.Form):
    """A release request; ``token`` is the idempotency key of the submit."""

    line = LineChoiceField(
        label=_("Only this line"),
        queryset=FreezeLine.objects.none(),
        required=False,
        empty_label=_("All lines"),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        required=False,
        help_text=_("Leave empty to release everything (earliest expiry first otherwise)."),
    )
    reason = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}))
    token = token_field()

    def __init__(self, *args, freeze, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4().hex)
        self.fields["line"].queryset = _held_lines(freeze)

    def clean(self) -> dict:
        data = super().clean()
        explain_token_error(self)
        return data


class DecisionForm(DomainErrorFormMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


class ShipOutForm(DomainErrorFormMixin, forms.Form):
    """Scrap or purchase return of frozen units. ``token`` is the idempotency key of the submit:
    the same form sent twice takes the units out once."""

    line = LineChoiceField(label=_("Line"), queryset=FreezeLine.objects.none())
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    outbound = forms.ChoiceField(
        label=_("Leaves as"),
        choices=[(kind, SHIP_OUT_LABELS[kind]) for kind in SHIP_OUT_KINDS],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    token = token_field()

    def __init__(self, *args, freeze, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4().hex)
        self.fields["line"].queryset = _held_lines(freeze)

    def clean(self) -> dict:
        data = super().clean()
        explain_token_error(self)
        return data


class InspectionForm(DomainErrorFormMixin, forms.Form):
    """A QC record; against a freeze (given by the page) or a batch (SKU and batch number).
    ``token`` is the idempotency key of the submit."""

    goods = forms.CharField(label=_("Goods SKU"), max_length=64, required=False)
    batch = forms.CharField(label=_("Batch number"), max_length=64, required=False)
    result = forms.ChoiceField(label=_("Result"), choices=QualityInspection.Result.choices)
    passed = forms.IntegerField(
        label=_("Passed"), min_value=0, max_value=ledger.MAX_QUANTITY, required=False
    )
    failed = forms.IntegerField(
        label=_("Failed"), min_value=0, max_value=ledger.MAX_QUANTITY, required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    token = token_field()

    def __init__(self, *args, for_batch: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4().hex)
        self.for_batch = for_batch
        if not for_batch:
            del self.fields["goods"]
            del self.fields["batch"]
        else:
            self.fields["goods"].required = True
            self.fields["batch"].required = True
            self.fields["goods"].widget = PickerWidget("goods")
            self.fields["batch"].widget = PickerWidget(
                "batch", params={"sku": self["goods"].auto_id}
            )

    def clean(self) -> dict:
        data = super().clean()
        explain_token_error(self)
        data["passed"] = data.get("passed") or 0
        data["failed"] = data.get("failed") or 0
        if self.for_batch and data.get("goods") and data.get("batch"):
            batch = (
                Batch.objects.filter(
                    goods__sku__iexact=data["goods"].strip(), batch_no__iexact=data["batch"].strip()
                )
                .select_related("goods")
                .first()
            )
            if batch is None:
                self.add_error("batch", _("This goods has no batch with this number."))
            data["batch_obj"] = batch
        return data


class RuleForm(DomainErrorFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("What it does"), choices=FreezeRule.Kind.choices)
    reason = forms.ChoiceField(label=_("Reason"), choices=Reason.choices)
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories"),
        queryset=Category.objects.order_by("name"),
        required=False,
        help_text=_("Sub-categories are included. Empty: every category."),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.active(),
        required=False,
        empty_label=_("Every warehouse"),
    )
    days_to_expiry = forms.IntegerField(
        label=_("Days before expiry"),
        min_value=0,
        max_value=3650,
        required=False,
        # Only the fields that apply show (static/js/wms.js): see ``data-show-if``.
        widget=forms.NumberInput(attrs={"data-show-if": "kind=near_expiry"}),
    )
    release_mode = forms.ChoiceField(label=_("Release"), choices=ReleaseMode.choices)
    release_at = forms.DateTimeField(
        label=_("Release at"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={
                **DATETIME_INPUT.attrs,
                "data-show-if": "release_mode=at_time;kind!=near_expiry",
            },
            format=DATETIME_INPUT.format,
        ),
        input_formats=DATETIME_FORMATS,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, rule: FreezeRule | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        if rule is not None:
            # The kind of a saved rule is fixed: ask only what applies to it.
            del self.fields["kind"]
            if rule.kind == FreezeRule.Kind.NEAR_EXPIRY:
                del self.fields["release_at"]
                self.fields["release_mode"].choices = self.near_expiry_release_modes()
            else:
                del self.fields["days_to_expiry"]

    @staticmethod
    def near_expiry_release_modes() -> list[tuple[str, str]]:
        """A batch near its expiry is not released at a set time."""
        return [(v, label) for v, label in ReleaseMode.choices if v != ReleaseMode.AT_TIME]

    def clean(self) -> dict:
        """Drop what does not apply to the rule's kind and release (a hidden field keeps the
        value typed before the kind changed), and refuse a near-expiry rule released at a set
        time."""
        data = super().clean()
        kind = data.get("kind") or (self.rule.kind if self.rule else None)
        if kind != FreezeRule.Kind.NEAR_EXPIRY:
            data["days_to_expiry"] = None
        elif data.get("release_mode") == ReleaseMode.AT_TIME:
            self.add_error("release_mode", _("A near-expiry rule is not released at a set time."))
        if data.get("release_mode") != ReleaseMode.AT_TIME or kind == FreezeRule.Kind.NEAR_EXPIRY:
            data["release_at"] = None
        return data

    @staticmethod
    def initial_for(rule: FreezeRule) -> dict:
        return {
            "name": rule.name,
            "reason": rule.reason,
            "categories": list(rule.categories.all()),
            "warehouse": rule.warehouse,
            "days_to_expiry": rule.days_to_expiry,
            "release_mode": rule.release_mode,
            "release_at": rule.release_at,
            "note": rule.note,
        }


class AgeingForm(forms.Form):
    days = forms.IntegerField(
        label=_("Flag freezes held longer than (days)"), min_value=1, max_value=3650
    )
