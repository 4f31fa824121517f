"""django-import-export resources for warehouses, zones and bins (xlsx and csv, via the admin).

Every import is all or nothing: rows are read and validated one by one into a row-level report
(unknown warehouse, zone of another warehouse, duplicate code, malformed value...), and if any
row is refused the whole import is rolled back. A sheet missing a required column, or with more
rows than ``settings.WMS_IMPORT_MAX_ROWS``, is refused before any row is read, with a message
naming the problem. Rows are written through ``warehouses.services`` (never ``instance.save()``),
so a bin deactivated by a sheet passes the same deactivation guards as one deactivated on a
screen. Headers are matched in any case, surrounding spaces ignored; blank rows are skipped.
"""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.instance_loaders import BaseInstanceLoader

from warehouses import services
from warehouses.exceptions import WarehouseDomainError
from warehouses.models import Bin, Warehouse, Zone


class SheetRefused(ValueError):
    """The sheet as a whole cannot be imported (missing columns, too many rows)."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 101.0 for a code typed as 101
    return str(value).strip()


# --- widgets --------------------------------------------------------------------------------


class CodeWidget(widgets.CharWidget):
    """A code cell: text, spaces trimmed, numbers written without a trailing ``.0``."""

    def clean(self, value, row=None, **kwargs):
        return _text(value)


class WarehouseCodeWidget(widgets.ForeignKeyWidget):
    """A warehouse by its code, any letter case; remembers the answers for one import."""

    def __init__(self) -> None:
        super().__init__(Warehouse, field="code")
        self.cache: dict[str, Warehouse | None] = {}

    def resolve(self, value: object) -> Warehouse | None:
        code = _text(value)
        if not code:
            return None
        key = code.upper()
        if key not in self.cache:
            self.cache[key] = Warehouse.objects.filter(code__iexact=code).first()
        return self.cache[key]

    def clean(self, value, row=None, **kwargs):
        code = _text(value)
        if not code:
            raise ValueError(_("Give the warehouse code."))
        warehouse = self.resolve(code)
        if warehouse is None:
            raise ValueError(_("There is no warehouse with code %(code)s.") % {"code": code})
        return warehouse


class ZoneInWarehouseWidget(widgets.ForeignKeyWidget):
    """A zone by its code, looked up within the warehouse named in the same row."""

    def __init__(self, warehouse_widget: WarehouseCodeWidget, warehouse_column: str) -> None:
        super().__init__(Zone, field="code")
        self.warehouse_widget = warehouse_widget
        self.warehouse_column = warehouse_column
        self.cache: dict[tuple[int, str], Zone | None] = {}

    def clean(self, value, row=None, **kwargs):
        code = _text(value)
        if not code:
            raise ValueError(_("Give the zone code."))
        warehouse = self.warehouse_widget.resolve((row or {}).get(self.warehouse_column))
        if warehouse is None:
            raise ValueError(
                _("Zone %(zone)s cannot be found without a known warehouse.") % {"zone": code}
            )
        key = (warehouse.pk, code)
        if key not in self.cache:
            self.cache[key] = (
                Zone.objects.select_related("warehouse")
                .filter(warehouse=warehouse, code=code)
                .first()
            )
        zone = self.cache[key]
        if zone is not None:
            return zone
        elsewhere = (
            Zone.objects.filter(code=code)
            .exclude(warehouse=warehouse)
            .values_list("warehouse__code", flat=True)
            .first()
        )
        if elsewhere:
            raise ValueError(
                _(
                    "Zone %(zone)s belongs to warehouse %(other)s, not to %(warehouse)s: a bin "
                    "must be in a zone of its own warehouse."
                )
                % {"zone": code, "other": elsewhere, "warehouse": warehouse.code}
            )
        raise ValueError(
            _("Warehouse %(warehouse)s has no zone %(zone)s.")
            % {"warehouse": warehouse.code, "zone": code}
        )

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.code


class ActiveWidget(widgets.BooleanWidget):
    """1/0, yes/no, true/false, y/n, active/inactive (any case); blank means unchanged (active
    for a new row). Anything else is an error, never a silent "no"."""

    TRUE = {"1", "yes", "y", "true", "active", "x"}
    FALSE = {"0", "no", "n", "false", "inactive"}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(
            _("Write 1 or 0 (yes or no) in the active column, not %(value)s.") % {"value": value}
        )


class CoordinateWidget(widgets.DecimalWidget):
    """A decimal degree; malformed text is a row error, not a crash."""

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(
                _("%(value)s is not a coordinate in decimal degrees.") % {"value": text}
            )
        return number


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number; anything else is a row error, not a crash."""

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise ValueError(_("%(value)s is not a whole number.") % {"value": text})
        return int(number)


# --- the shared import rules ----------------------------------------------------------------


class _LookupLoader(BaseInstanceLoader):
    """Finds the existing row through the resource's own ``existing(row)``."""

    def get_instance(self, row):
        return self.resource.existing(row)


class ServiceImportResource(resources.ModelResource):
    """All-or-nothing imports written through the services; see the module docstring.

    Subclasses set ``required_columns`` and implement ``existing(row)`` (the stored object the
    row updates, or None for a new one), ``row_key(row)`` (identity within the sheet) and
    ``save_through_services(instance, is_create)``.
    """

    required_columns: tuple[str, ...] = ()

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._seen: dict[tuple, int] = {}

    def missing_columns(self, headers: list[str]) -> list[str]:
        return [column for column in self.required_columns if column not in headers]

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        """Refuse a bad sheet before reading rows; otherwise import in one transaction that is
        rolled back when any row has an error or a validation error (the caller's
        ``use_transactions``/``rollback_on_validation_errors`` cannot weaken that)."""
        dataset.headers = [_text(header).lower() for header in (dataset.headers or [])]
        self._seen = {}
        self.reset_caches()
        problem = self.sheet_problem(dataset)
        if problem:
            result = self.get_result_class()()
            result.diff_headers = self.get_diff_headers()
            result.total_rows = len(dataset)
            self.handle_import_error(result, SheetRefused(problem), raise_errors)
            return result
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def sheet_problem(self, dataset) -> str:
        missing = self.missing_columns(list(dataset.headers or []))
        if missing:
            return _(
                "The sheet is missing the required column(s): %(missing)s. "
                "Expected columns: %(expected)s."
            ) % {
                "missing": ", ".join(missing),
                "expected": ", ".join(self.required_columns),
            }
        limit = settings.WMS_IMPORT_MAX_ROWS
        if len(dataset) > limit:
            return _("The sheet has %(rows)d rows; at most %(limit)d can be imported at once.") % {
                "rows": len(dataset),
                "limit": limit,
            }
        return ""

    def reset_caches(self) -> None:
        for field in self.fields.values():
            if hasattr(field.widget, "cache"):
                field.widget.cache = {}

    @staticmethod
    def is_blank(row) -> bool:
        return all(_text(value) == "" for value in row.values())

    def existing(self, row):
        raise NotImplementedError

    def row_key(self, row) -> tuple:
        raise NotImplementedError

    def save_through_services(self, instance, is_create: bool) -> None:
        raise NotImplementedError

    def before_import_row(self, row, **kwargs):
        if self.is_blank(row):
            return
        key = self.row_key(row)
        if not all(key):
            return
        number = kwargs.get("row_number")
        if key in self._seen:
            raise ValidationError(
                _("This row repeats row %(row)s of the sheet.") % {"row": self._seen[key]}
            )
        self._seen[key] = number

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if self.is_blank(row):
            return True
        return super().skip_row(instance, original, row, import_validation_errors)

    def do_instance_save(self, instance, is_create):
        try:
            self.save_through_services(instance, is_create)
        except WarehouseDomainError as error:
            raise error.as_validation_error() from error


# --- bins -----------------------------------------------------------------------------------


class BinResource(ServiceImportResource):
    """Bins by warehouse code + zone code + bin code + active (1/0).

    A row updates the bin with that code in that warehouse (moving it to the row's zone and
    (de)activating it), or creates it. The zone must be one of that warehouse's zones.
    """

    required_columns = ("warehouse", "zone", "code", "active")

    warehouse = fields.Field(
        attribute="warehouse", column_name="warehouse", widget=WarehouseCodeWidget()
    )
    code = fields.Field(attribute="code", column_name="code", widget=CodeWidget())
    is_active = fields.Field(
        attribute="is_active",
        column_name="active",
        widget=ActiveWidget(),
        saves_null_values=False,
    )

    class Meta:
        model = Bin
        fields = ("warehouse", "zone", "code", "is_active")
        import_order = ("warehouse", "zone", "code", "is_active")
        export_order = ("warehouse", "zone", "code", "is_active")
        import_id_fields = ("warehouse", "code")
        instance_loader_class = _LookupLoader
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # Built per instance so the zone widget shares this resource's warehouse cache.
        self.fields["zone"] = fields.Field(
            attribute="zone",
            column_name="zone",
            widget=ZoneInWarehouseWidget(self.fields["warehouse"].widget, "warehouse"),
        )

    def get_queryset(self):
        return Bin.objects.select_related("warehouse", "zone").order_by("warehouse__code", "code")

    def row_key(self, row) -> tuple:
        return (_text(row.get("warehouse")).upper(), _text(row.get("code")))

    def existing(self, row):
        warehouse = self.fields["warehouse"].widget.resolve(row.get("warehouse"))
        code = _text(row.get("code"))
        if warehouse is None or not code:
            return None
        found = Bin.objects.select_related("zone").filter(warehouse=warehouse, code=code).first()
        if found is not None:
            found.warehouse = warehouse
        return found

    def save_through_services(self, instance: Bin, is_create: bool) -> None:
        active = True if instance.is_active is None else instance.is_active
        if is_create:
            saved = services.bin_create(
                warehouse=instance.warehouse,
                zone=instance.zone,
                code=instance.code,
                is_active=active,
            )
            instance.pk, instance.created_at = saved.pk, saved.created_at
            return
        services.bin_update(bin=instance, zone=instance.zone, code=instance.code)
        if active:
            services.bin_reactivate(bin=instance)
        else:
            services.bin_deactivate(bin=instance)


# --- warehouses and zones -------------------------------------------------------------------


class WarehouseResource(ServiceImportResource):
    """Warehouses by code (any case); columns other than code and name may be left out."""

    required_columns = ("code", "name")

    code = fields.Field(attribute="code", column_name="code", widget=CodeWidget())
    latitude = fields.Field(
        attribute="latitude",
        column_name="latitude",
        widget=CoordinateWidget(coerce_to_string=False),
    )
    longitude = fields.Field(
        attribute="longitude",
        column_name="longitude",
        widget=CoordinateWidget(coerce_to_string=False),
    )
    priority = fields.Field(
        attribute="priority",
        column_name="priority",
        widget=WholeNumberWidget(coerce_to_string=False),
        saves_null_values=False,
    )
    is_active = fields.Field(
        attribute="is_active", column_name="active", widget=ActiveWidget(), saves_null_values=False
    )

    class Meta:
        model = Warehouse
        fields = (
            "code",
            "name",
            "address",
            "email",
            "latitude",
            "longitude",
            "priority",
            "is_active",
        )
        import_id_fields = ("code",)
        instance_loader_class = _LookupLoader
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True

    def row_key(self, row) -> tuple:
        return (_text(row.get("code")).upper(),)

    def existing(self, row):
        code = _text(row.get("code"))
        return Warehouse.objects.filter(code__iexact=code).first() if code else None

    def save_through_services(self, instance: Warehouse, is_create: bool) -> None:
        details = {
            "code": instance.code,
            "name": instance.name,
            "address": instance.address,
            "email": instance.email,
            "latitude": instance.latitude,
            "longitude": instance.longitude,
            "priority": instance.priority,
        }
        if is_create:
            saved = services.warehouse_create(**details)
            instance.pk, instance.created_at = saved.pk, saved.created_at
        else:
            services.warehouse_update(warehouse=instance, **details)
        if instance.is_active is False:
            services.warehouse_deactivate(warehouse=instance)
        elif instance.is_active and not is_create:
            services.warehouse_reactivate(warehouse=instance)


class ZoneResource(ServiceImportResource):
    """Zones by warehouse code + zone code, with name and type (picking or storage)."""

    required_columns = ("warehouse", "code", "name", "type")

    warehouse = fields.Field(
        attribute="warehouse", column_name="warehouse", widget=WarehouseCodeWidget()
    )
    code = fields.Field(attribute="code", column_name="code", widget=CodeWidget())

    class Meta:
        model = Zone
        fields = ("warehouse", "code", "name", "type")
        import_id_fields = ("warehouse", "code")
        instance_loader_class = _LookupLoader
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True

    def get_queryset(self):
        return Zone.objects.select_related("warehouse").order_by("warehouse__code", "code")

    def row_key(self, row) -> tuple:
        return (_text(row.get("warehouse")).upper(), _text(row.get("code")))

    def existing(self, row):
        warehouse = self.fields["warehouse"].widget.resolve(row.get("warehouse"))
        code = _text(row.get("code"))
        if warehouse is None or not code:
            return None
        return Zone.objects.filter(warehouse=warehouse, code=code).first()

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if "type" in row:
            row["type"] = _text(row["type"]).lower()

    def save_through_services(self, instance: Zone, is_create: bool) -> None:
        details = {"code": instance.code, "name": instance.name, "type": instance.type}
        if is_create:
            saved = services.zone_create(warehouse=instance.warehouse, **details)
            instance.pk = saved.pk
        else:
            services.zone_update(zone=instance, **details)
