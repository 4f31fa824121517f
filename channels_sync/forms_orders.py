from django import forms
from django.utils.translation import gettext_lazy as _

from channels_sync.models import Carrier, LogisticsRule, Order, Shop
from inventory.models import Category
from warehouses.models import Warehouse

CARRIER_SECRETS = {
    "auspost": [
        ("api_key", _("API key")),
        ("password", _("Password")),
        ("account_number", _("Account number")),
    ],
    "fourpx": [("app_key", _("App key")), ("app_secret", _("App secret"))],
    "aramex": [
        ("client_id", _("Client ID")),
        ("client_secret", _("Client secret")),
        ("scope", _("OAuth scope")),
    ],
}


class OrderFilter(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Order.Status.choices]
    )
    shop = forms.ModelChoiceField(
        label=_("Shop"), required=False, queryset=Shop.objects.all(), empty_label=_("All shops")
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        required=False,
        queryset=Warehouse.objects.all(),
        empty_label=_("All warehouses"),
    )
    q = forms.CharField(label=_("Order or customer"), required=False, max_length=100)


class ConfirmForm(forms.Form):
    orders = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)

    def __init__(self, *args, ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["orders"].choices = [(i, i) for i in ids]


class PullForm(forms.Form):
    # every platform has an order source (adapters.orders.order_source_for); a shop whose order
    # pull is switched off is not pulled on demand either (as push-now needs the push switch)
    shop = forms.ModelChoiceField(
        label=_("Shop"), queryset=Shop.objects.filter(is_active=True, is_order_pull_enabled=True)
    )


class RuleForm(forms.ModelForm):
    class Meta:
        model = LogisticsRule
        fields = [
            "name",
            "priority",
            "shop",
            "country",
            "state",
            "postcode_from",
            "postcode_to",
            "weight_min",
            "weight_max",
            "value_min",
            "value_max",
            "category",
            "method",
            "carrier",
            "service",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        if data.get("method") == LogisticsRule.Method.CARRIER and not data.get("carrier"):
            self.add_error("carrier", _("Choose the carrier that ships by this rule."))
        if data.get("method") != LogisticsRule.Method.CARRIER:
            data["carrier"] = None
        for low, high in (("weight_min", "weight_max"), ("value_min", "value_max")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, _("The upper limit is below the lower one."))
        return data


class RuleTestForm(forms.Form):
    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.all(), required=False)
    country = forms.CharField(label=_("Country"), max_length=2, initial="AU")
    state = forms.CharField(label=_("State / province"), max_length=60, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    weight = forms.DecimalField(
        label=_("Weight (kg)"), min_value=0, max_digits=12, decimal_places=3, initial=1
    )
    value = forms.DecimalField(
        label=_("Order value"), min_value=0, max_digits=12, decimal_places=2, initial=50
    )
    category = forms.ModelChoiceField(
        label=_("Goods category"), queryset=Category.objects.all(), required=False
    )


class CarrierForm(forms.ModelForm):
    """Carrier account. Secrets are write-only: an empty field keeps the stored value."""

    secret_1 = forms.CharField(
        label=_("First secret"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    secret_2 = forms.CharField(
        label=_("Second secret"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    secret_3 = forms.CharField(
        label=_("Account number / scope"),
        required=False,
        help_text=_(
            "Australia Post: the account number. Aramex: the OAuth scope, if not ac-api-au."
        ),
    )
    api_base_url = forms.URLField(
        label=_("API address"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty for the carrier's own address."),
    )

    class Meta:
        model = Carrier
        fields = ["kind", "name", "api_base_url", "default_service", "is_active"]

    def credentials(self, existing: dict) -> dict:
        names = [name for name, _label in CARRIER_SECRETS.get(self.cleaned_data["kind"], [])]
        values = dict(existing)
        typed = [self.cleaned_data[f"secret_{n}"] for n in (1, 2, 3)]
        for name, value in zip(names, typed, strict=False):
            if value:
                values[name] = value
        return {k: v for k, v in values.items() if k in names}


class OrderSettingsForm(forms.ModelForm):
    class Meta:
        from channels_sync.models import ShopOrderSettings

        model = ShopOrderSettings
        fields = ["pull_interval_minutes", "when_short"]
