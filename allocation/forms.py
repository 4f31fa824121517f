"""Forms of the allocation screens: parsing only; the services decide."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocation.models import GrabWindow, Policy, Store, StoreReturn
from inventory.forms_stock import GoodsChoiceField
from inventory.models import Goods
from warehouses.models import Bin, Warehouse
from wms.forms import DomainErrorFormMixin
from wms.widgets import PickerWidget

OFFER_ROWS = 5
#: A store field offers a drop-down up to this many stores (a manager's own few), and searches
#: as you type beyond it (``PickerWidget("store")``).
SHORT_LIST = 20


class GrabForm(DomainErrorFormMixin, forms.Form):
    store = forms.ModelChoiceField(queryset=Store.objects.none(), label=_("Store"))
    goods = forms.TypedChoiceField(coerce=int, label=_("Goods"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000)
    client_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, stores, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = Store.objects.filter(pk__in=[s.pk for s in stores])
        if len(stores) == 1:
            self.fields["store"].initial = stores[0].pk
        self.fields["goods"].choices = [
            (p.goods_id, f"{p.goods.sku} {p.goods.name}") for p in pools
        ]
        self.fields["quantity"].widget.attrs.update({"inputmode": "numeric", "pattern": "[0-9]*"})


class WindowForm(DomainErrorFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True), label=_("Source warehouse")
    )
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.filter(is_active=True), label=_("Policy")
    )
    mode = forms.ChoiceField(choices=GrabWindow.Mode.choices, label=_("Mode"))
    opens_at = forms.DateTimeField(
        label=_("Opens at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    scope = forms.ChoiceField(choices=GrabWindow.Scope.choices, label=_("Eligible stores"))
    stores = forms.ModelMultipleChoiceField(
        queryset=Store.objects.filter(is_active=True), required=False, label=_("Stores")
    )
    store_group = forms.CharField(required=False, max_length=60, label=_("Store group"))
    recurs = forms.BooleanField(required=False, label=_("Repeat with the policy's cycle"))
    # no max_length: a tampered token must not make the form invalid (the service cuts it)
    client_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, window: GrabWindow | None = None, **kwargs):
        """``window``: change that window (its warehouse, policy, mode and repetition stay;
        once it is open, only the closing time and the quantities can be changed). It has a
        row per goods it offers (at least ``OFFER_ROWS``): a goods without a row would be
        dropped from an upcoming window, and refused as "stopped" for an open one."""
        super().__init__(*args, **kwargs)
        self.window = window
        pools = [] if window is None else list(window.pools.select_related("goods").order_by("pk"))
        self.rows = max(OFFER_ROWS, len(pools))
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["opens_at"].initial = now.strftime("%Y-%m-%dT%H:%M")
        self.fields["closes_at"].initial = (now + datetime.timedelta(minutes=30)).strftime(
            "%Y-%m-%dT%H:%M"
        )
        goods = Goods.objects.filter(is_active=True, is_combo=False).order_by("sku")
        for i in range(self.rows):
            self.fields[f"goods_{i}"] = GoodsChoiceField(goods, required=False, label=_("Goods"))
            self.fields[f"quantity_{i}"] = forms.IntegerField(
                required=False, min_value=1, max_value=10_000_000, label=_("Quantity offered")
            )
        if window is not None:
            self._for_window(window, pools)

    def _for_window(self, window: GrabWindow, pools: list) -> None:
        fields = self.fields
        values = {
            "name": window.name,
            "warehouse": window.warehouse_id,
            "policy": window.policy_id,
            "mode": window.mode,
            "opens_at": timezone.localtime(window.opens_at),
            "closes_at": timezone.localtime(window.closes_at),
            "scope": window.scope,
            "stores": list(window.stores.values_list("pk", flat=True)),
            "store_group": window.store_group,
            "recurs": window.recurs,
        }
        fields["warehouse"].queryset = Warehouse.objects.all()
        fields["policy"].queryset = Policy.objects.all()
        for key, value in values.items():
            fields[key].initial = value
        fixed = ["warehouse", "policy", "mode", "recurs"]
        if window.status != GrabWindow.Status.SCHEDULED:
            fixed += ["opens_at", "scope", "stores", "store_group"]
            fixed += [f"goods_{i}" for i in range(self.rows)]
        for key in fixed:
            fields[key].disabled = True
        for i, pool in enumerate(pools):
            fields[f"goods_{i}"].initial = pool.goods
            fields[f"quantity_{i}"].initial = pool.offered

    def offer_rows(self):
        return [(self[f"goods_{i}"], self[f"quantity_{i}"]) for i in range(self.rows)]

    def offers(self) -> list[tuple]:
        out = []
        for i in range(self.rows):
            goods = self.cleaned_data.get(f"goods_{i}")
            quantity = self.cleaned_data.get(f"quantity_{i}")
            if goods and quantity:
                out.append((goods, quantity))
            elif goods or quantity:
                self.add_error(f"quantity_{i}", _("Give both the goods and its quantity."))
        return out


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = [
            "name",
            "priority",
            "lookback_days",
            "share",
            "cycle",
            "weekdays",
            "min_sales",
            "max_days_of_cover",
            "max_unreceived_days",
            "cap_per_goods",
            "cap_per_window",
            "is_active",
        ]


class StoreForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = [
            "code",
            "name",
            "address",
            "latitude",
            "longitude",
            "contact_name",
            "phone",
            "opening_hours",
            "group",
            "fixed_rank",
            "is_active",
            "managers",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        managers = self.fields["managers"]
        managers.queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        managers.required = False
        managers.label_from_instance = _user_label


def _user_label(user) -> str:
    """A user in a choice list: the login and, after it, the name or e-mail that tells who."""
    who = user.get_full_name() or user.email
    return f"{user.get_username()} · {who}" if who else user.get_username()


class RankingForm(forms.Form):
    goods = GoodsChoiceField(Goods.objects.filter(is_active=True), label=_("Goods"))


class ReturnForm(forms.Form):
    reason = forms.ChoiceField(choices=StoreReturn.Reason.choices, label=_("Reason"))
    note = forms.CharField(required=False, max_length=255, label=_("Note"))
    # no max_length: a tampered token must not make the form invalid (the service cuts it)
    client_key = forms.CharField(widget=forms.HiddenInput, required=False)


class ReceiveReturnForm(DomainErrorFormMixin, forms.Form):
    """The bin a store return is received into, typed or scanned by its code and searched as
    you type among the warehouse's active bins."""

    bin = forms.ModelChoiceField(queryset=Bin.objects.none(), label=_("Bin"), to_field_name="code")

    def __init__(self, *args, warehouse_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bin"].queryset = Bin.objects.filter(
            warehouse_id=warehouse_id, is_active=True
        ).order_by("code")
        self.fields["bin"].widget = PickerWidget("bin", params={"warehouse": warehouse_id})
        self.fields["bin"].error_messages["invalid_choice"] = _(
            "No active bin with this code in the return's warehouse."
        )


class SalesEntryForm(DomainErrorFormMixin, forms.Form):
    store = forms.ModelChoiceField(queryset=Store.objects.none(), label=_("Store"))
    goods = GoodsChoiceField(Goods.objects.filter(is_active=True), label=_("Goods"))
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    units_sold = forms.IntegerField(label=_("Units sold"), min_value=0, max_value=10_000_000)
    on_hand = forms.IntegerField(
        label=_("Store on hand"), min_value=0, max_value=10_000_000, required=False
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["store"]
        field.queryset = stores
        if stores.count() > SHORT_LIST:
            # a warehouse manager enters sales for any store: typed or picked by code
            field.to_field_name = "code"
            field.widget = PickerWidget("store")
            field.error_messages["invalid_choice"] = _("No store with this code that you run.")
        self.fields["day"].initial = timezone.localdate()
