"""Floor screens: the scan box that opens whatever was scanned, and the lookups the pickers use."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from inventory import hooks
from inventory.selectors import lookup
from inventory.selectors import scan as scan_selectors
from inventory.services.import_jobs import ImportNotDiscardable, import_job_discard
from wms.http import parse_id, respond
from wms.widgets import PickerWidget


class ScanForm(forms.Form):
    code = forms.CharField(
        label=_("Scan or type a SKU, barcode, bin or document number"),
        max_length=200,
        required=False,
        widget=PickerWidget("goods", attrs={"autofocus": True, "enterkeyhint": "go"}),
    )


@login_required
@require_GET
def scan_view(request: HttpRequest) -> HttpResponse:
    """``/scan/?code=...``: one match redirects to it (goods, batch, bin lookup, document); none
    says what was not found (404); several (a SKU that is also a bin code, a bin code used in two
    warehouses) are listed to choose from. ``warehouse`` limits bins to one warehouse."""
    code = request.GET.get("code", "")
    form = ScanForm(request.GET or None)
    if not code.strip():
        return respond(request, "inventory/floor/scan.html", {"result": None, "form": form})
    warehouse_id = parse_id(request.GET.get("warehouse"))
    result = scan_selectors.code_resolve(user=request.user, code=code, warehouse=warehouse_id)
    if result.hit is not None:
        return redirect(result.hit.url)
    status = 404 if not result.hits else 200
    return respond(
        request, "inventory/floor/scan.html", {"result": result, "form": form}, status=status
    )


LOOKUP_PERMISSIONS = {
    "goods": "inventory.view_goods",
    "bin": "warehouses.view_bin",
    "batch": "inventory.view_batch",
    "warehouse": "warehouses.view_warehouse",
    "document": None,  # per document kind, checked by the selector
}


@login_required
@require_GET
def lookup_view(request: HttpRequest, kind: str) -> HttpResponse:
    """``/inventory/lookup/<kind>/?q=&after=&limit=``: the options a picker offers, as JSON
    (``{"results": [{id, value, label, detail, url}], "after": cursor}``) or, for htmx or
    ``format=html``, as an HTML ``<li role="option">`` fragment. ``bin`` needs ``warehouse``,
    ``batch`` needs ``goods`` and ``document`` needs ``type`` (inbound, outbound, transfer,
    count); ``batch`` also takes ``sku`` (the goods typed in the form: its SKU or barcode). A
    missing or absurd one gives no options, never an error."""
    extra = hooks.lookups.get(kind) if kind not in LOOKUP_PERMISSIONS else None
    perm = extra[1] if extra else LOOKUP_PERMISSIONS.get(kind)
    if kind not in LOOKUP_PERMISSIONS and extra is None:
        raise Http404
    if perm and not request.user.has_perm(perm):
        raise PermissionDenied
    params = {
        "user": request.user,
        "q": request.GET.get("q", ""),
        "after": request.GET.get("after") or None,
        "limit": parse_id(request.GET.get("limit")),
    }
    if extra:
        page = extra[0](**params)
    elif kind == "goods":
        page = lookup.goods_lookup(**params)
    elif kind == "warehouse":
        page = lookup.warehouse_lookup(**params)
    elif kind == "bin":
        warehouse_id = parse_id(request.GET.get("warehouse"))
        page = lookup.bin_lookup(**params, warehouse=warehouse_id) if warehouse_id else None
    elif kind == "batch":
        goods_id = parse_id(request.GET.get("goods"))
        if goods_id is None and request.GET.get("sku"):
            found = scan_selectors.goods_scanned(request.GET["sku"])
            goods_id = found[0][0].pk if found else None
        page = lookup.batch_lookup(**params, goods=goods_id) if goods_id else None
    else:
        page = lookup.document_lookup(**params, kind=request.GET.get("type", ""))
    page = page or lookup.LookupPage()
    if request.htmx or request.GET.get("format") == "html":
        response = render(
            request, "inventory/floor/lookup_options.html", {"page": page, "kind": kind}
        )
    else:
        response = JsonResponse(page.as_dict())
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def import_job_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Discard one of the user's own checked imports (from the home page), then go home."""
    try:
        import_job_discard(job_id=pk, user=request.user)
    except ImportNotDiscardable as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The checked import was discarded; nothing was imported."))
    return redirect("home")
