from django import forms
from django.utils.translation import gettext_lazy as _

from channels_sync.models import BindingException, Platform, Shop, SyncRecord
from inventory.ledger import MAX_QUANTITY
from wms.widgets import PickerWidget

#: The POST fields of the shop form that carry secrets (kept off error pages and logs).
SECRET_POST_FIELDS = ("secret_1", "secret_2")

SECRET_FIELDS = {
    "shopify": [("access_token", _("Admin API access token"))],
    "rest": [("api_token", _("API token"))],
    "ebay": [("oauth_token", _("OAuth user token"))],
    "kogan": [("seller_id", _("Seller ID")), ("seller_token", _("Seller token"))],
}


class ShopForm(forms.ModelForm):
    """Shop settings. Secrets are write-only: an empty secret field keeps the stored value.

    ``requires_review`` (two-person review of binding changes): anyone who may edit the shop
    may switch it on (a tighter control); only a holder of ``channels_sync.confirm_binding``
    may switch it off. For anyone else, on a shop that requires review, the field is disabled
    (the stored value is kept) and a posted "off" is refused — otherwise an operator could
    switch review off, change the bindings alone and switch it back on."""

    secret_1 = forms.CharField(
        label=_("Secret"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    secret_2 = forms.CharField(
        label=_("Second secret (Kogan seller token)"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )

    api_base_url = forms.URLField(
        label=_("API address"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty to use the platform's own address (set for a test platform)."),
    )

    class Meta:
        model = Shop
        fields = [
            "platform",
            "name",
            "domain",
            "api_base_url",
            "location_ref",
            "is_stock_push_enabled",
            "is_order_pull_enabled",
            "share_percent",
            "safety_stock",
            "requires_review",
            "is_active",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["requires_review"]
        self.review_locked = not user.has_perm(
            "channels_sync.confirm_binding"
        ) and self.get_initial_for_field(field, "requires_review")
        if self.review_locked:
            field.disabled = True
            field.help_text = _(
                "Only a supervisor (who may confirm binding changes) can switch this off."
            )

    def clean(self):
        data = super().clean()
        if self.review_locked and "requires_review" in self.data:
            posted = self.fields["requires_review"].widget.value_from_datadict(
                self.data, self.files, self.add_prefix("requires_review")
            )
            if bool(posted) != bool(
                self.get_initial_for_field(self.fields["requires_review"], "requires_review")
            ):
                self.add_error(
                    None,
                    _(
                        "Only a supervisor (who may confirm binding changes) can switch the "
                        "two-person review of binding changes off."
                    ),
                )
        return data

    def credentials(self, existing: dict) -> dict:
        names = [name for name, _label in SECRET_FIELDS.get(self.cleaned_data["platform"], [])]
        values = dict(existing)
        for name, typed in zip(
            names, [self.cleaned_data["secret_1"], self.cleaned_data["secret_2"]], strict=False
        ):
            if typed:
                values[name] = typed
        return {k: v for k, v in values.items() if k in names}


class LinkForm(forms.Form):
    goods = forms.CharField(
        label=_("Goods SKU or barcode"), max_length=64, widget=PickerWidget("goods")
    )


class BindForm(forms.Form):
    warehouse = forms.IntegerField(widget=forms.HiddenInput, required=False)
    priority = forms.IntegerField(label=_("Priority"), min_value=1, max_value=999, initial=1)


class ExceptionForm(forms.Form):
    """One exception of a shop's bindings: for a goods (every listing selling it) or for one
    listing (its SKU or platform variant id), at one bound warehouse."""

    warehouse = forms.IntegerField(label=_("Warehouse"))
    goods = forms.CharField(
        label=_("Goods SKU"), max_length=64, required=False, widget=PickerWidget("goods")
    )
    listing = forms.CharField(
        label=_("Or listing (SKU or variant id)"), max_length=200, required=False
    )
    mode = forms.ChoiceField(
        label=_("Rule"),
        choices=[("", _("Bound (remove the exception)")), *BindingException.Mode.choices],
        required=False,
    )
    allotment = forms.IntegerField(
        label=_("Allotment"), min_value=0, max_value=MAX_QUANTITY, required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("mode") == "allotment" and data.get("allotment") is None:
            self.add_error("allotment", _("Give the allotment quantity."))
        if bool((data.get("goods") or "").strip()) == bool((data.get("listing") or "").strip()):
            self.add_error("goods", _("Give either a goods SKU or a listing."))
        return data


class MatchingSearchForm(forms.Form):
    """The matching screen's filters. A CharField refuses NUL characters (PostgreSQL cannot
    compare text with them); an invalid search shows every row of the chosen kind."""

    show = forms.ChoiceField(
        choices=[("unmatched", "unmatched"), ("matched", "matched"), ("all", "all")],
        required=False,
    )
    q = forms.CharField(required=False)

    def filters(self) -> tuple[str, str]:
        """``(show, q)``: the valid values, or the defaults for invalid ones."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        show = data.get("show") or "unmatched"
        q = (data.get("q") or "").strip()[:64]
        return show, q


class SyncLogFilter(forms.Form):
    shop = forms.ModelChoiceField(
        label=_("Shop"), queryset=Shop.objects.all(), required=False, empty_label=_("All shops")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *SyncRecord.Status.choices],
        required=False,
    )
    trigger = forms.ChoiceField(
        label=_("Trigger"),
        choices=[("", _("Any trigger")), *SyncRecord.Trigger.choices],
        required=False,
    )
    q = forms.CharField(label=_("SKU"), required=False, max_length=64)


PLATFORM_CHOICES = Platform.choices
