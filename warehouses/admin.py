"""Admin for warehouses, zones and bins, with xlsx/csv import and export.

Writes go through ``warehouses.services``: the change forms call them from ``save_model``, the
active flags change only through the (de)activate actions (so bin deactivation guards run), and
imports use the resources of ``warehouses.resources`` (all or nothing, row-level report).
Nothing is deleted here: deactivate instead, so history keeps pointing at real rows.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm

from warehouses import services
from warehouses.exceptions import WarehouseDomainError
from warehouses.models import Bin, Warehouse, Zone
from warehouses.resources import BinResource, WarehouseResource, ZoneResource
from wms.spreadsheets import SafeCSV, SafeXLSX


class CappedImportForm(ImportForm):
    """The import form, refusing files above ``settings.WMS_UPLOAD_MAX_BYTES``."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.WMS_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; files up to %(limit)s can be imported.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


class ServiceAdmin(ImportExportModelAdmin):
    """Shared rules: xlsx/csv, no delete, import needs add+change, domain errors as messages."""

    import_formats = [XLSX, CSV]
    export_formats = [SafeXLSX, SafeCSV]
    import_form_class = CappedImportForm
    readonly_fields = ("is_active",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_import_permission(self, request) -> bool:
        opts = self.opts
        return request.user.has_perms(
            [
                f"{opts.app_label}.add_{opts.model_name}",
                f"{opts.app_label}.change_{opts.model_name}",
            ]
        )

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form validated the same rules as the services; a refusal here means another user
        # got there first (e.g. took the code a moment ago). Admin rolls back; we explain.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WarehouseDomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                _(
                    "Nothing was imported: the sheet changed or another user changed the data "
                    "between the preview and the import. Please import it again."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(
                request.get_full_path().replace("process_import/", "import/")
            )
        return super().process_result(result, request)

    def _run(self, request, action, objects, done: str) -> None:
        try:
            with transaction.atomic():  # all selected rows change, or none
                action(objects)
        except WarehouseDomainError as error:
            lines = [error.message, *getattr(error, "refusals", {}).values()]
            self.message_user(request, " ".join(lines), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)


WAREHOUSE_DETAILS = ("code", "name", "address", "email", "latitude", "longitude", "priority")


@admin.register(Warehouse)
class WarehouseAdmin(ServiceAdmin):
    resource_classes = [WarehouseResource]
    list_display = ("code", "name", "priority", "email", "latitude", "longitude", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "address")
    ordering = ("priority", "code")
    actions = ("deactivate", "reactivate")
    fields = ("code", "name", "address", "email", "latitude", "longitude", "priority", "is_active")

    def save_model(self, request, obj, form, change):
        details = {name: form.cleaned_data.get(name) for name in WAREHOUSE_DETAILS}
        if change:
            saved = services.warehouse_update(warehouse=obj, **details)
        else:
            saved = services.warehouse_create(**details)
        obj.pk, obj.created_at = saved.pk, saved.created_at

    @admin.action(
        description=gettext_lazy("Deactivate selected warehouses"), permissions=["change"]
    )
    def deactivate(self, request, queryset):
        warehouses = list(queryset.order_by("pk"))

        def act(items):
            for warehouse in items:
                services.warehouse_deactivate(warehouse=warehouse)

        self._run(
            request,
            act,
            warehouses,
            _("%(count)d warehouse(s) deactivated.") % {"count": len(warehouses)},
        )

    @admin.action(
        description=gettext_lazy("Reactivate selected warehouses"), permissions=["change"]
    )
    def reactivate(self, request, queryset):
        warehouses = list(queryset.order_by("pk"))

        def act(items):
            for warehouse in items:
                services.warehouse_reactivate(warehouse=warehouse)

        self._run(
            request,
            act,
            warehouses,
            _("%(count)d warehouse(s) reactivated.") % {"count": len(warehouses)},
        )


@admin.register(Zone)
class ZoneAdmin(ServiceAdmin):
    resource_classes = [ZoneResource]
    list_display = ("code", "name", "type", "warehouse")
    list_filter = ("type", "warehouse")
    list_select_related = ("warehouse",)
    search_fields = ("code", "name", "warehouse__code")
    readonly_fields = ()
    fields = ("warehouse", "code", "name", "type")

    def get_readonly_fields(self, request, obj=None):
        # A zone stays in its warehouse: its bins are there.
        return ("warehouse",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.zone_update(
                zone=obj, code=data["code"], name=data["name"], type=data["type"]
            )
        else:
            saved = services.zone_create(
                warehouse=data["warehouse"], code=data["code"], name=data["name"], type=data["type"]
            )
        obj.pk = saved.pk


@admin.register(Bin)
class BinAdmin(ServiceAdmin):
    resource_classes = [BinResource]
    list_display = ("code", "warehouse", "zone", "zone_type", "is_active")
    list_filter = ("is_active", "zone__type", "warehouse")
    list_select_related = ("warehouse", "zone")
    search_fields = ("code", "warehouse__code", "zone__code")
    actions = ("deactivate", "reactivate")
    fields = ("warehouse", "zone", "code", "is_active")

    def get_readonly_fields(self, request, obj=None):
        # The warehouse of a bin is fixed; the active flag changes through the actions.
        return ("warehouse", "is_active") if obj is not None else ("is_active",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "zone":
            kwargs["queryset"] = Zone.objects.select_related("warehouse").order_by(
                "warehouse__code", "code"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("zone type"), ordering="zone__type")
    def zone_type(self, obj: Bin) -> str:
        return obj.zone.get_type_display()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.bin_update(bin=obj, zone=data["zone"], code=data["code"])
        else:
            saved = services.bin_create(
                warehouse=data["warehouse"], zone=data["zone"], code=data["code"]
            )
        obj.pk, obj.created_at = saved.pk, saved.created_at

    @admin.action(description=gettext_lazy("Deactivate selected bins"), permissions=["change"])
    def deactivate(self, request, queryset):
        bins = list(queryset)
        self._run(
            request,
            lambda items: services.bin_deactivate_many(bins=items),
            bins,
            _("%(count)d bin(s) deactivated.") % {"count": len(bins)},
        )

    @admin.action(description=gettext_lazy("Reactivate selected bins"), permissions=["change"])
    def reactivate(self, request, queryset):
        bins = list(queryset)
        self._run(
            request,
            lambda items: services.bin_reactivate_many(bins=items),
            bins,
            _("%(count)d bin(s) reactivated.") % {"count": len(bins)},
        )
