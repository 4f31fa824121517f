"""Warehouse screens: thin views that parse with a form, call a service or selector, render.

Anonymous visitors are sent to the login page; a user without the permission gets 403; an
unknown id gets 404. htmx requests get the page's partial (``Vary: HX-Request``); an invalid
form comes back with status 422 so htmx swaps the errors in.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from warehouses import selectors, services
from warehouses.exceptions import WarehouseDomainError
from warehouses.filters import BinLookupFilter, WarehouseFilter
from warehouses.forms import BinForm, WarehouseForm, ZoneForm
from warehouses.models import Bin, Warehouse, Zone
from wms.http import View, permission, respond
from wms.pagination import keyset_page

WAREHOUSES_PER_PAGE = 25
BINS_PER_PAGE = 50


def _get_or_404(found):
    if found is None:
        raise Http404
    return found


def _with_warehouse(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        warehouse = _get_or_404(selectors.warehouse_get(user=request.user, pk=pk))
        return view(request, warehouse, *args, **kwargs)

    return wrapper


# --- warehouses -----------------------------------------------------------------------------


@permission("warehouses.view_warehouse")
@require_http_methods(["GET"])
def warehouse_list_view(request: HttpRequest) -> HttpResponse:
    filterset = WarehouseFilter(
        request.GET or None, queryset=selectors.warehouse_list(user=request.user)
    )
    valid = not filterset.is_bound or filterset.is_valid()
    queryset = filterset.qs if valid else filterset.queryset.none()
    page = keyset_page(
        queryset, cursor=request.GET.get("cursor"), per_page=WAREHOUSES_PER_PAGE, with_count=True
    )
    context = {"filterset": filterset, "page": page, "warehouses": page.rows}
    return respond(
        request,
        "warehouses/warehouse_list.html",
        context,
        partial="results",
        status=200 if valid else 422,
    )


@permission("warehouses.add_warehouse")
@require_http_methods(["GET", "POST"])
def warehouse_create_view(request: HttpRequest) -> HttpResponse:
    form = WarehouseForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                warehouse = services.warehouse_create(**form.cleaned_data)
            except WarehouseDomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request, _("Warehouse %(code)s created.") % {"code": warehouse.code}
                )
                return redirect("warehouses:warehouse-detail", pk=warehouse.pk)
        return respond(
            request, "warehouses/warehouse_form.html", {"form": form, "warehouse": None}, status=422
        )
    return respond(request, "warehouses/warehouse_form.html", {"form": form, "warehouse": None})


@permission("warehouses.change_warehouse")
@require_http_methods(["GET", "POST"])
@_with_warehouse
def warehouse_edit_view(request: HttpRequest, warehouse: Warehouse) -> HttpResponse:
    if request.method == "POST":
        form = WarehouseForm(request.POST)
        if form.is_valid():
            try:
                warehouse = services.warehouse_update(warehouse=warehouse, **form.cleaned_data)
            except WarehouseDomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Warehouse %(code)s saved.") % {"code": warehouse.code})
                return redirect("warehouses:warehouse-detail", pk=warehouse.pk)
        context = {"form": form, "warehouse": warehouse}
        return respond(request, "warehouses/warehouse_form.html", context, status=422)
    form = WarehouseForm(initial=WarehouseForm.initial_for(warehouse))
    return respond(
        request, "warehouses/warehouse_form.html", {"form": form, "warehouse": warehouse}
    )


def _confirm(
    request: HttpRequest,
    *,
    action: Callable[[], object],
    title: str,
    question: str,
    button: str,
    done: str,
    back_url: str,
    danger: bool,
) -> HttpResponse:
    """GET asks; POST runs ``action`` and goes back, or shows the refusal (409) on the page."""
    context = {
        "title": title,
        "question": question,
        "button": button,
        "back_url": back_url,
        "danger": danger,
        "refusal": None,
    }
    if request.method == "POST":
        try:
            action()
        except WarehouseDomainError as error:
            context["refusal"] = error
            return respond(request, "warehouses/confirm.html", context, status=409)
        messages.success(request, done)
        return redirect(back_url)
    return respond(request, "warehouses/confirm.html", context)


@permission("warehouses.change_warehouse")
@require_http_methods(["GET", "POST"])
@_with_warehouse
def warehouse_deactivate_view(request: HttpRequest, warehouse: Warehouse) -> HttpResponse:
    names = {"code": warehouse.code, "name": warehouse.name}
    return _confirm(
        request,
        action=lambda: services.warehouse_deactivate(warehouse=warehouse),
        title=_("Deactivate warehouse %(code)s") % names,
        question=_(
            "Deactivate %(code)s · %(name)s? It stays on record with its zones and bins, "
            "and can be reactivated later."
        )
        % names,
        button=_("Deactivate"),
        done=_("Warehouse %(code)s deactivated.") % names,
        back_url=reverse("warehouses:warehouse-detail", args=[warehouse.pk]),
        danger=True,
    )


@permission("warehouses.change_warehouse")
@require_http_methods(["GET", "POST"])
@_with_warehouse
def warehouse_reactivate_view(request: HttpRequest, warehouse: Warehouse) -> HttpResponse:
    names = {"code": warehouse.code, "name": warehouse.name}
    return _confirm(
        request,
        action=lambda: services.warehouse_reactivate(warehouse=warehouse),
        title=_("Reactivate warehouse %(code)s") % names,
        question=_("Reactivate %(code)s · %(name)s?") % names,
        button=_("Reactivate"),
        done=_("Warehouse %(code)s reactivated.") % names,
        back_url=reverse("warehouses:warehouse-detail", args=[warehouse.pk]),
        danger=False,
    )


# --- warehouse detail: zones and bins -------------------------------------------------------


def _detail_context(
    request: HttpRequest,
    warehouse: Warehouse,
    *,
    zone_form: ZoneForm | None = None,
    bin_form: BinForm | None = None,
    notice: str = "",
) -> dict:
    user = request.user
    context: dict = {"warehouse": warehouse, "notice": notice, "zones": [], "page": None}
    if user.has_perm("warehouses.view_zone"):
        context["zones"] = list(selectors.zone_list(user=user, warehouse=warehouse))
    if user.has_perm("warehouses.view_bin"):
        bins = selectors.bin_lookup(user=user, warehouse=warehouse)
        context["page"] = keyset_page(
            bins, cursor=request.GET.get("cursor"), per_page=BINS_PER_PAGE, with_count=True
        )
        context["bins"] = context["page"].rows
    if user.has_perm("warehouses.add_zone"):
        context["zone_form"] = zone_form or ZoneForm(prefix="zone")
    if user.has_perm("warehouses.add_bin") and context["zones"]:
        context["bin_form"] = bin_form or BinForm(prefix="bin", warehouse=warehouse)
    return context


@permission("warehouses.view_warehouse")
@require_http_methods(["GET"])
@_with_warehouse
def warehouse_detail_view(request: HttpRequest, warehouse: Warehouse) -> HttpResponse:
    context = _detail_context(request, warehouse)
    partial = "bins" if request.htmx and request.htmx.target == "bins" else "structure"
    return respond(request, "warehouses/warehouse_detail.html", context, partial=partial)


def _structure_response(
    request: HttpRequest, warehouse: Warehouse, *, saved: str, **forms
) -> HttpResponse:
    """After an inline add: the zones-and-bins part (htmx) or the whole page."""
    if saved and not request.htmx:
        messages.success(request, saved)
        return redirect("warehouses:warehouse-detail", pk=warehouse.pk)
    context = _detail_context(request, warehouse, notice=saved, **forms)
    response = respond(
        request,
        "warehouses/warehouse_detail.html",
        context,
        partial="structure",
        status=200 if saved else 422,
    )
    if saved:
        response["HX-Trigger"] = "warehouse-structure-changed"
    return response


@permission("warehouses.add_zone")
@require_POST
@_with_warehouse
def zone_create_view(request: HttpRequest, warehouse: Warehouse) -> HttpResponse:
    form = ZoneForm(request.POST, prefix="zone")
    if form.is_valid():
        try:
            zone = services.zone_create(warehouse=warehouse, **form.cleaned_data)
        except WarehouseDomainError as error:
            form.add_domain_error(error)
        else:
            saved = _("Zone %(code)s added.") % {"code": zone.code}
            return _structure_response(request, warehouse, saved=saved)
    return _structure_response(request, warehouse, saved="", zone_form=form)


@permission("warehouses.add_bin")
@require_POST
@_with_warehouse
def bin_create_view(request: HttpRequest, warehouse: Warehouse) -> HttpResponse:
    form = BinForm(request.POST, prefix="bin", warehouse=warehouse)
    if form.is_valid():
        try:
            bin_ = services.bin_create(warehouse=warehouse, **form.cleaned_data)
        except WarehouseDomainError as error:
            form.add_domain_error(error)
        else:
            saved = _("Bin %(code)s added.") % {"code": bin_.code}
            return _structure_response(request, warehouse, saved=saved)
    return _structure_response(request, warehouse, saved="", bin_form=form)


@permission("warehouses.change_zone")
@require_http_methods(["GET", "POST"])
def zone_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    zone: Zone = _get_or_404(selectors.zone_get(user=request.user, pk=pk))
    if request.method == "POST":
        form = ZoneForm(request.POST)
        if form.is_valid():
            try:
                zone = services.zone_update(zone=zone, **form.cleaned_data)
            except WarehouseDomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Zone %(code)s saved.") % {"code": zone.code})
                return redirect("warehouses:warehouse-detail", pk=zone.warehouse_id)
        return respond(
            request, "warehouses/zone_edit.html", {"form": form, "zone": zone}, status=422
        )
    form = ZoneForm(initial=ZoneForm.initial_for(zone))
    return respond(request, "warehouses/zone_edit.html", {"form": form, "zone": zone})


@permission("warehouses.change_bin")
@require_http_methods(["GET", "POST"])
def bin_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    bin_: Bin = _get_or_404(selectors.bin_get(user=request.user, pk=pk))
    if request.method == "POST":
        form = BinForm(request.POST, warehouse=bin_.warehouse)
        if form.is_valid():
            try:
                bin_ = services.bin_update(bin=bin_, **form.cleaned_data)
            except WarehouseDomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Bin %(code)s saved.") % {"code": bin_.code})
                return redirect("warehouses:warehouse-detail", pk=bin_.warehouse_id)
        return respond(request, "warehouses/bin_edit.html", {"form": form, "bin": bin_}, status=422)
    form = BinForm(initial=BinForm.initial_for(bin_), warehouse=bin_.warehouse)
    return respond(request, "warehouses/bin_edit.html", {"form": form, "bin": bin_})


def _back_url(request: HttpRequest, default: str) -> str:
    """Where to return after a confirmation: a local ``next`` path, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    is_local = candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if is_local else default


@permission("warehouses.change_bin")
@require_http_methods(["GET", "POST"])
def bin_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    bin_: Bin = _get_or_404(selectors.bin_get(user=request.user, pk=pk))
    names = {"code": bin_.code, "warehouse": bin_.warehouse.code}
    return _confirm(
        request,
        action=lambda: services.bin_deactivate(bin=bin_),
        title=_("Deactivate bin %(code)s") % names,
        question=_(
            "Deactivate bin %(code)s of warehouse %(warehouse)s? Nothing can be put into it "
            "until it is reactivated."
        )
        % names,
        button=_("Deactivate"),
        done=_("Bin %(code)s deactivated.") % names,
        back_url=_back_url(
            request, reverse("warehouses:warehouse-detail", args=[bin_.warehouse_id])
        ),
        danger=True,
    )


@permission("warehouses.change_bin")
@require_http_methods(["GET", "POST"])
def bin_reactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    bin_: Bin = _get_or_404(selectors.bin_get(user=request.user, pk=pk))
    names = {"code": bin_.code, "warehouse": bin_.warehouse.code}
    return _confirm(
        request,
        action=lambda: services.bin_reactivate(bin=bin_),
        title=_("Reactivate bin %(code)s") % names,
        question=_("Reactivate bin %(code)s of warehouse %(warehouse)s?") % names,
        button=_("Reactivate"),
        done=_("Bin %(code)s reactivated.") % names,
        back_url=_back_url(
            request, reverse("warehouses:warehouse-detail", args=[bin_.warehouse_id])
        ),
        danger=False,
    )


# --- bin lookup -----------------------------------------------------------------------------


@permission("warehouses.view_bin")
@require_http_methods(["GET"])
def bin_lookup_view(request: HttpRequest) -> HttpResponse:
    filterset = BinLookupFilter(
        request.GET or None, queryset=selectors.bin_lookup(user=request.user)
    )
    valid = not filterset.is_bound or filterset.is_valid()
    queryset = filterset.qs if valid else filterset.queryset.none()
    page = keyset_page(
        queryset, cursor=request.GET.get("cursor"), per_page=BINS_PER_PAGE, with_count=True
    )
    bins = page.rows
    contents = selectors.bin_contents(user=request.user, bins=bins)
    context = {
        "filterset": filterset,
        "page": page,
        "rows": [(bin_, contents.get(bin_.pk, [])) for bin_ in bins],
    }
    return respond(
        request,
        "warehouses/bin_lookup.html",
        context,
        partial="results",
        status=200 if valid else 422,
    )
