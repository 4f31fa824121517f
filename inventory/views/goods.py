"""Screens of the goods catalogue and of the import/export flow: thin views that parse with a
form, call a service or selector and render.

Anonymous visitors go to the login page; a user without the permission gets 403; an id outside
the user's reach gets 404. htmx requests get the page's partial (``Vary: HX-Request``); an invalid
form comes back with status 422 so htmx swaps the errors in.
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from inventory.exceptions import GoodsError
from inventory.filters import GoodsFilter
from inventory.forms_goods import (
    BatchForm,
    ComboComponentForm,
    ExportForm,
    GoodsForm,
    ImportUploadForm,
)
from inventory.imports import exports, jobs, registry, retention
from inventory.imports.engine import ImportReport
from inventory.imports.errors import ImportRefused
from inventory.imports.templates import build_template
from inventory.models import Goods, ImportJob
from inventory.selectors import goods as selectors
from inventory.services import goods as services
from wms.http import View, permission, respond
from wms.jobs import MAX_ATTEMPTS

GOODS_PER_PAGE = 50


def _with_goods(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        goods = selectors.goods_get(pk)
        if goods is None:
            raise Http404
        return view(request, goods, *args, **kwargs)

    return wrapper


# --- goods ------------------------------------------------------------------------------------


def _goods_filter(request: HttpRequest, data) -> GoodsFilter:
    return GoodsFilter(
        data or None,
        queryset=selectors.goods_queryset(),
        tree=selectors.category_tree(),
        brands=selectors.brand_choices(),
    )


@permission("inventory.view_goods")
@require_http_methods(["GET"])
def goods_list_view(request: HttpRequest) -> HttpResponse:
    filterset = _goods_filter(request, request.GET)
    valid = not filterset.is_bound or filterset.is_valid()
    queryset = filterset.qs if valid else filterset.queryset.none()
    page = selectors.goods_page(queryset, cursor=request.GET.get("cursor"), per_page=GOODS_PER_PAGE)
    for goods in page.rows:
        goods.category_path = filterset.tree.path(goods.category_id)
    params = request.GET.copy()
    params.pop("cursor", None)
    exportable = registry.exportable_by(request.user)
    context = {
        "filterset": filterset,
        "page": page,
        "goods_list": page.rows,
        "filter_query": params.urlencode(),
        "filter_params": [(key, value) for key, values in params.lists() for value in values],
        "export_form": ExportForm(user=request.user) if exportable else None,
    }
    return respond(
        request,
        "inventory/goods_list.html",
        context,
        partial="results",
        status=200 if valid else 422,
    )


@permission("inventory.view_goods")
@require_http_methods(["GET"])
@_with_goods
def goods_detail_view(request: HttpRequest, goods: Goods) -> HttpResponse:
    tree = selectors.category_tree()
    context = {
        "goods": goods,
        "category_path": tree.path(goods.category_id),
        "components": selectors.goods_components(goods),
        "part_of": selectors.goods_part_of(goods),
    }
    if request.user.has_perm("inventory.view_batch"):
        context["batches"] = selectors.goods_batches(goods, limit=20)
    return respond(request, "inventory/goods_detail.html", context)


def _goods_form(request: HttpRequest, data=None, initial=None) -> GoodsForm:
    return GoodsForm(
        data,
        initial=initial,
        categories=selectors.category_tree().choices(),
        brands=selectors.brand_choices(),
    )


def _goods_fields(form: GoodsForm) -> dict:
    data = dict(form.cleaned_data)
    data["category"] = selectors.category_get(data["category"]) if data["category"] else None
    data["brand"] = selectors.brand_get(data["brand"]) if data["brand"] else None
    return data


@permission("inventory.add_goods")
@require_http_methods(["GET", "POST"])
def goods_create_view(request: HttpRequest) -> HttpResponse:
    form = _goods_form(request, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                goods = services.goods_create(**_goods_fields(form))
            except GoodsError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Goods %(sku)s created.") % {"sku": goods.sku})
                return redirect("inventory:goods-detail", pk=goods.pk)
        return respond(
            request, "inventory/goods_form.html", {"form": form, "goods": None}, status=422
        )
    return respond(request, "inventory/goods_form.html", {"form": form, "goods": None})


@permission("inventory.change_goods")
@require_http_methods(["GET", "POST"])
@_with_goods
def goods_edit_view(request: HttpRequest, goods: Goods) -> HttpResponse:
    initial = {
        "sku": goods.sku,
        "name": goods.name,
        "barcode": goods.barcode,
        "category": goods.category_id,
        "brand": goods.brand_id,
        "unit": goods.unit,
        "weight": goods.weight,
        "volume": goods.volume,
        "shelf_life_days": goods.shelf_life_days,
        "is_active": goods.is_active,
    }
    form = _goods_form(request, request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.goods_update(goods=goods, **_goods_fields(form))
            except GoodsError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Goods %(sku)s saved.") % {"sku": goods.sku})
                return redirect("inventory:goods-detail", pk=goods.pk)
        return respond(
            request, "inventory/goods_form.html", {"form": form, "goods": goods}, status=422
        )
    return respond(request, "inventory/goods_form.html", {"form": form, "goods": goods})


@permission("inventory.change_goods")
@require_POST
@_with_goods
def goods_set_active_view(request: HttpRequest, goods: Goods, active: bool) -> HttpResponse:
    services.goods_set_active(goods=goods, is_active=active)
    if active:
        messages.success(request, _("Goods %(sku)s is active again.") % {"sku": goods.sku})
    else:
        messages.success(
            request,
            _("Goods %(sku)s is deactivated: it stays in the history but is no longer offered.")
            % {"sku": goods.sku},
        )
    return redirect("inventory:goods-detail", pk=goods.pk)


# --- combo editor -----------------------------------------------------------------------------

COMBO_PERMS = (
    "inventory.change_goods",
    "inventory.add_combocomponent",
    "inventory.change_combocomponent",
    "inventory.delete_combocomponent",
)


def _combo_context(goods: Goods, form: ComboComponentForm) -> dict:
    return {"goods": goods, "components": selectors.goods_components(goods), "form": form}


@permission(*COMBO_PERMS)
@require_http_methods(["GET", "POST"])
@_with_goods
def goods_combo_view(request: HttpRequest, goods: Goods) -> HttpResponse:
    """The combo editor: add a component or change its quantity (``action=set``), or take one
    out (``action=remove``)."""
    template = "inventory/goods_combo.html"
    if request.method == "GET":
        return respond(
            request, template, _combo_context(goods, ComboComponentForm()), partial="editor"
        )
    if request.POST.get("action") == "remove":
        component = selectors.goods_get(_int(request.POST.get("component")))
        if component is None:
            raise Http404
        services.combo_component_remove(combo=goods, component=component)
        messages.success(
            request,
            _("%(component)s removed from %(combo)s.")
            % {"component": component.sku, "combo": goods.sku},
        )
        return respond(
            request, template, _combo_context(goods, ComboComponentForm()), partial="editor"
        )
    form = ComboComponentForm(request.POST)
    if form.is_valid():
        component = selectors.goods_by_code(form.cleaned_data["component_sku"], barcode=False)
        if component is None:
            form.add_error(
                "component_sku",
                _("No goods has the SKU %(sku)s.") % {"sku": form.cleaned_data["component_sku"]},
            )
        else:
            try:
                services.combo_component_set(
                    combo=goods, component=component, quantity=form.cleaned_data["quantity"]
                )
            except GoodsError as error:
                form.add_domain_error(error, field="component_sku")
            else:
                messages.success(
                    request,
                    _("%(combo)s now holds %(quantity)s x %(component)s.")
                    % {
                        "combo": goods.sku,
                        "quantity": form.cleaned_data["quantity"],
                        "component": component.sku,
                    },
                )
                return respond(
                    request, template, _combo_context(goods, ComboComponentForm()), partial="editor"
                )
    return respond(request, template, _combo_context(goods, form), partial="editor", status=422)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


# --- batches ----------------------------------------------------------------------------------


@permission("inventory.view_goods", "inventory.view_batch")
@require_http_methods(["GET", "POST"])
@_with_goods
def goods_batches_view(request: HttpRequest, goods: Goods) -> HttpResponse:
    """Batches of one goods, newest expiry last, with a form to add one."""
    template = "inventory/goods_batches.html"
    form = BatchForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("inventory.add_batch"):
            raise PermissionDenied
        if form.is_valid():
            try:
                batch = services.batch_create(goods=goods, **form.cleaned_data)
            except GoodsError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Batch %(batch)s added.") % {"batch": batch.batch_no})
                return redirect("inventory:goods-batches", pk=goods.pk)
        context = {"goods": goods, "batches": selectors.goods_batches(goods), "form": form}
        return respond(request, template, context, status=422)
    context = {"goods": goods, "batches": selectors.goods_batches(goods), "form": form}
    return respond(request, template, context)


@permission("inventory.change_batch")
@require_http_methods(["GET", "POST"])
@_with_goods
def batch_edit_view(request: HttpRequest, goods: Goods, batch_pk: int) -> HttpResponse:
    batch = selectors.batch_get(goods, batch_pk)
    if batch is None:
        raise Http404
    initial = {
        "batch_no": batch.batch_no,
        "production_date": batch.production_date,
        "expiry_date": batch.expiry_date,
        "inbound_date": batch.inbound_date,
    }
    form = BatchForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.batch_update(batch=batch, **form.cleaned_data)
            except GoodsError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Batch %(batch)s saved.") % {"batch": batch.batch_no})
                return redirect("inventory:goods-batches", pk=goods.pk)
        return respond(
            request,
            "inventory/goods_batch_form.html",
            {"goods": goods, "batch": batch, "form": form},
            status=422,
        )
    return respond(
        request, "inventory/goods_batch_form.html", {"goods": goods, "batch": batch, "form": form}
    )


# --- imports ----------------------------------------------------------------------------------


def _require_any_import(request: HttpRequest) -> None:
    if not registry.importable_by(request.user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def import_start_view(request: HttpRequest) -> HttpResponse:
    """Choose what to import, download its template, upload the file."""
    _require_any_import(request)
    initial = {"resource": request.GET.get("resource", "goods")}
    form = ImportUploadForm(
        request.POST or None, request.FILES or None, user=request.user, initial=initial
    )
    if request.method == "POST":
        if form.is_valid():
            resource_class = registry.get(form.cleaned_data["resource"])
            if resource_class is None or not registry.can_import(request.user, resource_class):
                raise PermissionDenied
            try:
                job = jobs.import_job_create(
                    user=request.user,
                    resource_key=resource_class.import_key,
                    upload=form.cleaned_data["file"],
                    language=request.LANGUAGE_CODE,
                )
            except ImportRefused as refusal:
                form.add_error("file", str(refusal))
            else:
                return redirect("inventory:import-job", pk=job.pk)
        status = 422
    else:
        status = 200
    context = {
        "form": form,
        "resources": registry.importable_by(request.user),
        "jobs": selectors.import_jobs_for(request.user, limit=10),
    }
    return respond(request, "inventory/import_start.html", context, status=status)


def _job_context(request: HttpRequest, job: ImportJob) -> dict:
    resource_class = registry.get(job.resource)
    preview = ImportReport.from_dict(job.preview) if job.preview else None
    result = ImportReport.from_dict(job.result) if job.result else None
    can_import = resource_class is not None and registry.can_import(request.user, resource_class)
    return {
        "job": job,
        "resource_label": resource_class.import_label if resource_class else job.resource,
        "preview": preview,
        "result": result,
        "can_commit": can_import and job.status == ImportJob.Status.READY,
        "can_retry": can_import
        and job.status
        in (ImportJob.Status.INVALID, ImportJob.Status.REFUSED, ImportJob.Status.FAILED),
        "upload_form": ImportUploadForm(user=request.user, initial={"resource": job.resource}),
        "can_create_missing": can_import
        and job.status == ImportJob.Status.INVALID
        and bool(preview and preview.missing),
        "max_attempts": MAX_ATTEMPTS,
    }


@login_required
@require_http_methods(["GET"])
def import_job_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's page: live progress while it runs (htmx polls the ``status`` partial), then the
    preview (counts, every invalid row) or the result."""
    job = selectors.import_job_get(request.user, pk)
    if job is None:
        raise Http404
    return respond(
        request, "inventory/import_job.html", _job_context(request, job), partial="status"
    )


@login_required
@require_POST
def import_job_commit_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get(request.user, pk)
    if job is None:
        raise Http404
    resource_class = registry.get(job.resource)
    if resource_class is None or not registry.can_import(request.user, resource_class):
        raise PermissionDenied
    try:
        job = jobs.import_job_commit(job=job, user=request.user)
    except ImportRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if job.status == ImportJob.Status.DONE:
            messages.success(request, _("Import finished: every row was written."))
        elif not job.is_running:
            messages.error(request, _("Nothing was imported: the file has errors now, see below."))
    return redirect("inventory:import-job", pk=job.pk)


@login_required
@require_POST
def import_job_create_missing_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Create the brands and categories the sheet names but which do not exist, with the import
    (the sheet is checked again; they are written only when the import is committed)."""
    job = selectors.import_job_get(request.user, pk)
    if job is None:
        raise Http404
    resource_class = registry.get(job.resource)
    if resource_class is None or not registry.can_import(request.user, resource_class):
        raise PermissionDenied
    try:
        job = jobs.import_job_create_missing(job=job, user=request.user)
    except ImportRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("inventory:import-job", pk=job.pk)


@login_required
@require_http_methods(["GET"])
def import_job_list_view(request: HttpRequest) -> HttpResponse:
    _require_any_import(request)
    context = {"jobs": selectors.import_jobs_for(request.user)}
    return respond(request, "inventory/import_list.html", context)


@login_required
@require_http_methods(["GET"])
def import_template_view(request: HttpRequest, resource: str) -> HttpResponse:
    resource_class = registry.get(resource)
    if resource_class is None:
        raise Http404
    if not registry.can_import(request.user, resource_class):
        raise PermissionDenied
    content = build_template(resource_class())
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[exports.XLSX])
    response["Content-Disposition"] = f'attachment; filename="{resource}-template.xlsx"'
    return response


# --- exports ----------------------------------------------------------------------------------


@login_required
@require_POST
def export_create_view(request: HttpRequest) -> HttpResponse:
    """Export the goods list as filtered (the filters come with the form) and record it in the
    export history; the file is sent at once and can be downloaded again from the history."""
    form = ExportForm(request.POST, user=request.user)
    if not form.is_valid():
        if not registry.exportable_by(request.user):
            raise PermissionDenied
        messages.error(request, _("Choose what to export and the format."))
        return redirect("inventory:goods-list")
    resource_class = registry.get(form.cleaned_data["resource"])
    if resource_class is None or not registry.can_export(request.user, resource_class):
        raise PermissionDenied
    filterset = _goods_filter(request, request.POST)
    if filterset.is_bound and not filterset.is_valid():
        messages.error(request, _("The filters are not valid; nothing was exported."))
        return redirect("inventory:goods-list")
    record = exports.export_create(
        user=request.user,
        resource_key=resource_class.import_key,
        file_format=form.cleaned_data["file_format"],
        queryset=filterset.qs,
        filters=filterset.active_filters(),
        filters_display=filterset.describe(),
    )
    return _download(record)


def _download(record) -> FileResponse:
    if record.is_expired:
        raise Http404(
            _("This export has expired: its file was removed after %(days)s days. Export again.")
            % {"days": retention.retention_days()}
        )
    path = Path(default_storage.path(record.file.name))
    if not path.exists():
        raise Http404(_("The file of this export is no longer on the server."))
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=record.file_name,
        content_type=exports.CONTENT_TYPES.get(record.file_format, "application/octet-stream"),
    )


@login_required
@require_http_methods(["GET"])
def export_history_view(request: HttpRequest) -> HttpResponse:
    if not registry.exportable_by(request.user):
        raise PermissionDenied
    context = {"records": selectors.export_records_for(request.user)}
    return respond(request, "inventory/export_history.html", context)


@login_required
@require_http_methods(["GET"])
def export_download_view(request: HttpRequest, pk: int) -> FileResponse:
    """Download an earlier export again: the exporter's own (or any, with view_exportrecord),
    and only while the user may still export that resource."""
    record = selectors.export_record_get(request.user, pk)
    if record is None:
        raise Http404
    resource_class = registry.get(record.resource)
    if resource_class is None or not registry.can_export(request.user, resource_class):
        raise PermissionDenied
    return _download(record)
