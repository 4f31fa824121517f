"""Forms of the warehouse screens: parsing and field rules only; the services decide and write.

Fields are built from the model fields, so labels, lengths and validators stay in one place.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from warehouses.models import Bin, Warehouse, Zone
from wms.forms import DomainErrorFormMixin


def _model_field(model, name: str, **kwargs) -> forms.Field:
    return model._meta.get_field(name).formfield(**kwargs)


class WarehouseForm(DomainErrorFormMixin, forms.Form):
    code = _model_field(Warehouse, "code")
    name = _model_field(Warehouse, "name")
    address = _model_field(Warehouse, "address", widget=forms.Textarea(attrs={"rows": 2}))
    email = _model_field(Warehouse, "email")
    latitude = _model_field(Warehouse, "latitude", help_text=_("Decimal degrees, e.g. -33.8688"))
    longitude = _model_field(Warehouse, "longitude", help_text=_("Decimal degrees, e.g. 151.2093"))
    priority = _model_field(
        Warehouse, "priority", help_text=_("Lower numbers ship first when several can fill.")
    )

    def clean(self) -> dict:
        data = super().clean()
        has_lat = data.get("latitude") is not None
        has_lng = data.get("longitude") is not None
        if has_lat != has_lng and not {"latitude", "longitude"} & set(self.errors):
            missing = "longitude" if has_lat else "latitude"
            self.add_error(missing, _("Give both latitude and longitude, or neither."))
        return data

    @classmethod
    def initial_for(cls, warehouse: Warehouse) -> dict:
        return {name: getattr(warehouse, name) for name in cls.base_fields}


class ZoneForm(DomainErrorFormMixin, forms.Form):
    code = _model_field(Zone, "code")
    name = _model_field(Zone, "name")
    type = _model_field(Zone, "type")

    @classmethod
    def initial_for(cls, zone: Zone) -> dict:
        return {"code": zone.code, "name": zone.name, "type": zone.type}


class ZoneChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Zone) -> str:
        return f"{obj.code} · {obj.name} ({obj.get_type_display()})"


class BinForm(DomainErrorFormMixin, forms.Form):
    """A bin of one warehouse: the zone must be one of that warehouse's zones."""

    zone = ZoneChoiceField(queryset=Zone.objects.none(), label=_("Zone"))
    code = _model_field(Bin, "code")

    def __init__(self, *args, warehouse: Warehouse, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = Zone.objects.filter(warehouse=warehouse).order_by("code")

    @classmethod
    def initial_for(cls, bin_: Bin) -> dict:
        return {"zone": bin_.zone_id, "code": bin_.code}
