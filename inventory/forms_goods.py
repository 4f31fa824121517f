"""Forms of the goods catalogue screens: parsing and field checks only; writes go to services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.imports import registry
from inventory.imports.files import limits
from wms.forms import DomainErrorFormMixin
from wms.widgets import PickerWidget


class GoodsForm(DomainErrorFormMixin, forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=255)
    barcode = forms.CharField(label=_("Barcode"), max_length=64, required=False)
    category = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )
    brand = forms.TypedChoiceField(label=_("Brand"), required=False, coerce=int, empty_value=None)
    unit = forms.CharField(label=_("Unit"), max_length=16, initial="pcs")
    weight = forms.DecimalField(
        label=_("Weight (kg)"), max_digits=10, decimal_places=3, min_value=0, required=False
    )
    volume = forms.DecimalField(
        label=_("Volume (L)"), max_digits=12, decimal_places=3, min_value=0, required=False
    )
    shelf_life_days = forms.IntegerField(
        label=_("Shelf life (days)"), min_value=0, max_value=36500, required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, categories, brands, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *categories]
        self.fields["brand"].choices = [("", "—"), *brands]


class ComboComponentForm(DomainErrorFormMixin, forms.Form):
    component_sku = forms.CharField(
        label=_("Component SKU"), max_length=64, widget=PickerWidget("goods")
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000)


class BatchForm(DomainErrorFormMixin, forms.Form):
    batch_no = forms.CharField(label=_("Batch number"), max_length=64)
    production_date = forms.DateField(
        label=_("Production date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    expiry_date = forms.DateField(
        label=_("Expiry date"),
        required=False,
        help_text=_("Leave blank to use the production date plus the shelf life."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    inbound_date = forms.DateField(
        label=_("Inbound date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ImportUploadForm(forms.Form):
    resource = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [
            (resource.import_key, resource.import_label)
            for resource in registry.importable_by(user)
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > limits().max_bytes:
            raise forms.ValidationError(
                _("The file is too big (the limit is %(limit)s MB).")
                % {"limit": round(limits().max_bytes / 2**20, 1)}
            )
        return upload


class ExportForm(forms.Form):
    resource = forms.ChoiceField(label=_("What to export"))
    file_format = forms.ChoiceField(
        label=_("Format"), choices=(("xlsx", "Excel (.xlsx)"), ("csv", "CSV (.csv)"))
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        resources = registry.exportable_by(user)
        resources.sort(key=lambda resource: resource.import_key != "goods")
        self.fields["resource"].choices = [
            (resource.import_key, resource.import_label) for resource in resources
        ]
