"""Floor screens: the scan box that opens whatever was scanned, and the lookups the pickers use."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from inventory.selectors import scan as scan_selectors
from wms.http import parse_id, respond


@login_required
@require_GET
def scan_view(request: HttpRequest) -> HttpResponse:
    """``/scan/?code=...``: one match redirects to it (goods, batch, bin lookup, document); none
    says what was not found (404); several (a SKU that is also a bin code, a bin code used in two
    warehouses) are listed to choose from. ``warehouse`` limits bins to one warehouse."""
    code = request.GET.get("code", "")
    if not code.strip():
        return respond(request, "inventory/floor/scan.html", {"result": None, "code": ""})
    warehouse_id = parse_id(request.GET.get("warehouse"))
    result = scan_selectors.code_resolve(user=request.user, code=code, warehouse=warehouse_id)
    if result.hit is not None:
        return redirect(result.hit.url)
    status = 404 if not result.hits else 200
    return respond(
        request, "inventory/floor/scan.html", {"result": result, "code": result.code}, status=status
    )
