"""Admin of the goods catalogue, with django-import-export's Import/Export buttons.

The admin's Import button sends the user to the import screen (``inventory.imports`` jobs:
upload checks, a preview, large sheets in the background, all or nothing); the admin itself never
reads a sheet. Import and export are allowed to holders of the resource's permissions only
(django-import-export allows every admin user by default). Combo lines are read-only here: the
combo editor screen and the combo import check that no combo contains itself.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from inventory.exceptions import InvalidGoods
from inventory.imports import registry
from inventory.imports.formats import WmsCSV, WmsXLSX
from inventory.imports.goods import BatchResource, ComboComponentResource, GoodsResource
from inventory.imports.shopify import ShopifyProductResource
from inventory.models import Batch, Brand, Category, ComboComponent, ExportRecord, Goods, ImportJob
from inventory.services.goods import batch_expiry_default
from wms.admin import ReadOnlyAdmin
from wms.forms import DomainErrorFormMixin


class WmsImportExportAdmin(ImportExportModelAdmin):
    """ImportExportModelAdmin with our formats, our permission rules and plain messages."""

    import_formats = [WmsXLSX, WmsCSV]
    export_formats = [WmsXLSX, WmsCSV]

    def has_import_permission(self, request) -> bool:
        return any(
            registry.can_import(request.user, resource)
            for resource in self.get_import_resource_classes(request)
        )

    def has_export_permission(self, request) -> bool:
        return any(
            registry.can_export(request.user, resource)
            for resource in self.get_export_resource_classes(request)
        )

    def get_import_resource_classes(self, request):
        return [
            resource
            for resource in super().get_import_resource_classes(request)
            if registry.can_import(request.user, resource)
        ] or list(super().get_import_resource_classes(request))[:1]

    def get_export_resource_classes(self, request):
        return [
            resource
            for resource in super().get_export_resource_classes(request)
            if resource.export_permissions
        ]

    def import_action(self, request, **kwargs):
        """The admin's Import button leads to the import screen: the same upload checks, a
        preview, large sheets in the background with progress, a job history. The admin never
        reads a sheet itself (it would read it whole, in memory, inside the request)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        messages.info(
            request,
            _(
                "Sheets are imported on the import screen: a preview first, then an "
                "all-or-nothing commit; large sheets run in the background with a progress bar."
            ),
        )
        resource = self.get_import_resource_classes(request)[0]
        url = reverse("inventory:import-start")
        return HttpResponseRedirect(f"{url}?{urlencode({'resource': resource.import_key})}")

    def process_import(self, request, **kwargs):
        return self.import_action(request, **kwargs)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent")
    list_select_related = ("parent",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


class ComboComponentInline(admin.TabularInline):
    model = ComboComponent
    fk_name = "combo"
    fields = ("component", "quantity")
    readonly_fields = ("component", "quantity")
    extra = 0
    can_delete = False
    verbose_name_plural = _("components (edit them on the combo editor screen)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Goods)
class GoodsAdmin(WmsImportExportAdmin):
    resource_classes = [GoodsResource, ShopifyProductResource]
    list_display = ("sku", "name", "barcode", "category", "brand", "is_combo", "is_active")
    list_filter = ("is_active", "is_combo", "category", "brand")
    list_select_related = ("category", "brand")
    search_fields = ("sku", "name", "barcode")
    autocomplete_fields = ("category", "brand")
    readonly_fields = ("is_combo", "created_at", "updated_at", "screen_link")
    inlines = [ComboComponentInline]

    @admin.display(description=_("screen"))
    def screen_link(self, goods: Goods) -> str:
        if not goods.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("inventory:goods-detail", args=[goods.pk]),
            _("open the goods screen (combo editor, batches)"),
        )


@admin.register(ComboComponent)
class ComboComponentAdmin(WmsImportExportAdmin):
    resource_classes = [ComboComponentResource]
    list_display = ("combo", "component", "quantity")
    list_select_related = ("combo", "component")
    search_fields = ("combo__sku", "component__sku")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BatchAdminForm(DomainErrorFormMixin, forms.ModelForm):
    class Meta:
        model = Batch
        fields = ("goods", "batch_no", "production_date", "expiry_date", "inbound_date")

    def clean(self):
        data = super().clean()
        goods = data.get("goods")
        if goods is not None:
            try:
                data["expiry_date"] = batch_expiry_default(
                    goods, data.get("production_date"), data.get("expiry_date")
                )
            except InvalidGoods as error:  # a production date + shelf life past year 9999
                self.add_domain_error(error)
                return data
        production, expiry = data.get("production_date"), data.get("expiry_date")
        if production and expiry and expiry < production:
            self.add_error("expiry_date", _("The expiry date is before the production date."))
        return data


@admin.register(Batch)
class BatchAdmin(WmsImportExportAdmin):
    form = BatchAdminForm
    resource_classes = [BatchResource]
    list_display = ("batch_no", "goods", "production_date", "expiry_date", "inbound_date")
    list_select_related = ("goods",)
    search_fields = ("batch_no", "goods__sku")
    autocomplete_fields = ("goods",)
    date_hierarchy = "expiry_date"

    def save_model(self, request, obj, form, change):
        obj.expiry_date = form.cleaned_data.get("expiry_date")
        super().save_model(request, obj, form, change)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "resource", "user", "status", "created_at", "finished_at")
    list_filter = ("status", "resource")
    list_select_related = ("user",)
    search_fields = ("original_name", "user__username")
    exclude = ("preview", "result")


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "resource", "user", "row_count", "filters_display", "created_at")
    list_filter = ("resource", "file_format")
    list_select_related = ("user",)
    search_fields = ("file_name", "user__username")
