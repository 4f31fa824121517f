"""Allocation screens: thin — parse, call a service or selector, render. Store managers' pages
are phone first; every object is looked up through the user's scope (another store's: 404)."""

from __future__ import annotations

import csv
import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from allocation import selectors
from allocation.exceptions import AllocationError
from allocation.forms import (
    GrabForm,
    PolicyForm,
    RankingForm,
    ReceiveReturnForm,
    ReturnForm,
    SalesEntryForm,
    StoreForm,
    WindowForm,
)
from allocation.models import (
    GrabWindow,
    Policy,
    ReplenishmentOrder,
    Store,
    StoreReturn,
    StoreSales,
)
from allocation.services import close, grabs, orders, returns, sales, windows
from wms import writers
from wms.errors import DomainError
from wms.http import parse_id, permission, respond
from wms.spreadsheets import escape_formula

ERRORS = (DomainError,)


def _id(value) -> int:
    pk = parse_id(value)
    if pk is None:
        raise Http404
    return pk


# ------------------------------------------------------------------ store manager (phone)


@permission("allocation.grab")
def grab_home_view(request: HttpRequest) -> HttpResponse:
    """Open and upcoming windows for my stores; the list refreshes itself (htmx polling)."""
    context = {"rows": selectors.window_list_for_store_manager(request.user), "now": timezone.now()}
    return respond(request, "allocation/grab_home.html", context, partial="windows")


@permission("allocation.grab")
@require_http_methods(["GET", "POST"])
def grab_view(request: HttpRequest, pk: str) -> HttpResponse:
    window = selectors.grab_window_get(request.user, _id(pk))
    if window is None:
        raise Http404
    window = windows.window_open_if_due(window)
    stores = [s for s in selectors.my_stores(request.user) if selectors._in_scope(window, s)]
    if not stores:
        raise Http404
    pools = list(window.pools.select_related("goods"))
    suggested = selectors.suggestions(request.user, window, stores)
    initial = {"client_key": uuid.uuid4().hex}
    if pools:
        # a suggestion row's "Use" link (?store=&goods=) fills the form with that store, goods
        # and suggested quantity; otherwise the first goods, and the store only when it is the
        # manager's one store (of several, the manager picks: no grab for the wrong store)
        store = _chosen(request.GET.get("store"), [s.pk for s in stores])
        if store is None and len(stores) == 1:
            store = stores[0].pk
        goods = _chosen(request.GET.get("goods"), [p.goods_id for p in pools]) or pools[0].goods_id
        initial.update(goods=goods, quantity=suggested.get((store or stores[0].pk, goods)) or 1)
        if store is not None:
            initial["store"] = store
    form = GrabForm(request.POST or None, initial=initial, stores=stores, pools=pools)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                grab = grabs.grab_request_submit(
                    user=request.user,
                    store=form.cleaned_data["store"],
                    window=window,
                    goods_id=form.cleaned_data["goods"],
                    quantity=form.cleaned_data["quantity"],
                    client_key=form.cleaned_data["client_key"],
                )
            except ERRORS as error:
                form.add_domain_error(error)
            else:
                _tell(request, grab, asked=form.cleaned_data)
                return redirect("allocation:my-requests")
        status = 422
    context = {
        "window": window,
        "form": form,
        "pools": pools,
        "not_open": window.not_grabbable_reason(),
        "suggested": [
            {"store": s, "pool": p, "quantity": suggested.get((s.pk, p.goods_id), 0)}
            for s in stores
            for p in pools
        ],
    }
    return respond(request, "allocation/grab_form.html", context, status=status)


def _chosen(value: str | None, allowed: list[int]) -> int | None:
    """``value`` as one of ``allowed`` ids, or None (a stale or edited link is ignored)."""
    pk = parse_id(value)
    return pk if pk in allowed else None


def _tell(request, grab, *, asked: dict) -> None:
    """The answer to a grab. A second phone of the same store gets the request the first one
    made (one live request per store and goods): say so, and that this one was not added."""
    label = f"{grab.pool.goods.sku} × {grab.quantity}"
    if grab.client_key != asked["client_key"]:
        messages.info(
            request,
            _(
                "Store %(store)s had already asked for %(what)s from another phone (%(who)s): "
                "that request stands; your %(asked)s was not added."
            )
            % {
                "store": grab.store.code,
                "what": label,
                "who": grab.requested_by.get_username() if grab.requested_by else "—",
                "asked": asked["quantity"],
            },
        )
    if grab.status == grab.Status.GRANTED:
        messages.success(request, _("%(what)s: granted in full.") % {"what": label})
    elif grab.status == grab.Status.PARTIAL:
        messages.warning(
            request,
            _("%(what)s: %(n)s granted. %(reason)s")
            % {"what": label, "n": grab.granted, "reason": grab.reason},
        )
    elif grab.status == grab.Status.REFUSED:
        messages.error(
            request, _("%(what)s: refused. %(reason)s") % {"what": label, "reason": grab.reason}
        )
    else:
        messages.success(
            request,
            _("%(what)s: request recorded; it is shared when the window closes.") % {"what": label},
        )


@permission("allocation.view_grabrequest")
def my_requests_view(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.request_list(request.user)[:200])
    return respond(request, "allocation/request_list.html", {"requests": rows})


@permission("allocation.grab")
@require_POST
def request_cancel_view(request: HttpRequest, pk: str) -> HttpResponse:
    if not selectors.request_list(request.user).filter(pk=_id(pk)).exists():
        raise Http404
    try:
        grabs.grab_request_cancel(user=request.user, request_id=_id(pk))
    except ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Request cancelled."))
    return redirect("allocation:my-requests")


# ------------------------------------------------------------------ orders (both sides)


@permission("allocation.view_replenishmentorder")
def order_list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = list(selectors.order_list(request.user, status=status)[:300])
    context = {"orders": rows, "status": status, "statuses": ReplenishmentOrder.Status.choices}
    return respond(request, "allocation/order_list.html", context)


@permission("allocation.view_replenishmentorder")
def order_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    order = selectors.order_get(request.user, _id(pk))
    if order is None:
        raise Http404
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "events": list(order.events.select_related("actor")),
        "returns": list(order.returns.all()),
        "return_form": ReturnForm(initial={"client_key": uuid.uuid4().hex}),
    }
    return respond(request, "allocation/order_detail.html", context)


def _order_action(request, pk, action, done_message, *, done_status: str = ""):
    """Run ``action(order)`` and go back to the order. ``done_status``: the status the action
    leads to; when the action is refused because the order is in it already (a double tap on
    a phone, a second tab), the answer says so as information, not as an error."""
    order = selectors.order_get(request.user, _id(pk))
    if order is None:
        raise Http404
    try:
        action(order)
    except ERRORS as error:
        order.refresh_from_db(fields=["status"])
        if done_status and order.status == done_status:
            messages.info(
                request,
                _("Order %(ref)s is already %(status)s: nothing more to do.")
                % {"ref": order.ref, "status": order.get_status_display().lower()},
            )
        else:
            messages.error(request, str(error))
    else:
        messages.success(request, done_message % {"ref": order.ref})
    return redirect("allocation:order-detail", pk=order.pk)


@permission("allocation.ship_order")
@require_POST
def order_pick_view(request: HttpRequest, pk: str) -> HttpResponse:
    return _order_action(
        request,
        pk,
        lambda o: orders.order_start_picking(order_id=o.pk, user=request.user),
        _("Order %(ref)s: picking started."),
        done_status=ReplenishmentOrder.Status.PICKING,
    )


@permission("allocation.ship_order")
@require_POST
def order_ship_view(request: HttpRequest, pk: str) -> HttpResponse:
    return _order_action(
        request,
        pk,
        lambda o: orders.order_ship(order_id=o.pk, user=request.user),
        _("Order %(ref)s shipped."),
        done_status=ReplenishmentOrder.Status.SHIPPED,
    )


@permission("allocation.ship_order")
@require_POST
def order_cancel_view(request: HttpRequest, pk: str) -> HttpResponse:
    return _order_action(
        request,
        pk,
        lambda o: orders.order_cancel(
            order_id=o.pk, user=request.user, note=request.POST.get("note", "")
        ),
        _("Order %(ref)s cancelled; its stock is available again."),
        done_status=ReplenishmentOrder.Status.CANCELLED,
    )


def _int_or_error(value: str):
    text = (value or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise AllocationError(_("Enter whole numbers of zero or more."))
    return int(text)


@permission("allocation.receive_order")
@require_POST
def order_receive_view(request: HttpRequest, pk: str) -> HttpResponse:
    order = selectors.order_get(request.user, _id(pk))
    if order is None:
        raise Http404

    def receive(o):
        received = {}
        for line in o.lines.all():
            got = _int_or_error(request.POST.get(f"received_{line.pk}", ""))
            damaged = _int_or_error(request.POST.get(f"damaged_{line.pk}", "")) or 0
            received[line.pk] = (line.quantity if got is None else got, damaged)
        orders.order_receive(
            order_id=o.pk, user=request.user, received=received, note=request.POST.get("note", "")
        )

    return _order_action(
        request,
        pk,
        receive,
        _("Order %(ref)s received."),
        done_status=ReplenishmentOrder.Status.RECEIVED,
    )


@permission("allocation.add_storereturn")
@require_POST
def return_file_view(request: HttpRequest, pk: str) -> HttpResponse:
    order = selectors.order_get(request.user, _id(pk))
    if order is None:
        raise Http404
    form = ReturnForm(request.POST)

    def file(o):
        if not form.is_valid():
            if "reason" in form.errors:
                raise AllocationError(_("Choose a reason."))
            raise AllocationError(f"{form.fields['note'].label}: {form.errors['note'][0]}")
        lines = {}
        for line in o.lines.all():
            value = _int_or_error(request.POST.get(f"return_{line.pk}", ""))
            if value:
                lines[line.pk] = value
        returns.return_file(
            user=request.user,
            order_id=o.pk,
            lines=lines,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            client_key=form.cleaned_data["client_key"],
        )

    return _order_action(request, pk, file, _("Return filed for order %(ref)s."))


# ------------------------------------------------------------------ warehouse side


@permission("allocation.view_grabwindow", "allocation.view_all_stores")
def window_list_view(request: HttpRequest) -> HttpResponse:
    rows = list(
        GrabWindow.objects.select_related("warehouse", "policy").prefetch_related("pools__goods")[
            :200
        ]
    )
    return respond(request, "allocation/window_list.html", {"windows": rows})


@permission("allocation.manage_windows")
@require_http_methods(["GET", "POST"])
def window_create_view(request: HttpRequest) -> HttpResponse:
    form = WindowForm(request.POST or None, initial={"client_key": uuid.uuid4().hex})
    if request.method == "POST":
        if form.is_valid():
            offers = form.offers()
            if form.is_valid():
                data = form.cleaned_data
                try:
                    window = windows.window_create(
                        name=data["name"],
                        warehouse=data["warehouse"],
                        policy=data["policy"],
                        mode=data["mode"],
                        opens_at=data["opens_at"],
                        closes_at=data["closes_at"],
                        scope=data["scope"],
                        stores=list(data["stores"]),
                        store_group=data["store_group"],
                        recurs=data["recurs"],
                        offers=[windows.Offer(g, q) for g, q in offers],
                        user=request.user,
                        client_key=data["client_key"],
                    )
                except ERRORS as error:
                    form.add_domain_error(error)
                else:
                    messages.success(request, _("Window %(ref)s saved.") % {"ref": window.ref})
                    return redirect("allocation:window-detail", pk=window.pk)
        return respond(request, "allocation/window_form.html", {"form": form}, status=422)
    return respond(request, "allocation/window_form.html", {"form": form})


@permission("allocation.manage_windows")
@require_http_methods(["GET", "POST"])
def window_edit_view(request: HttpRequest, pk: str) -> HttpResponse:
    """Change a window: everything but its warehouse, policy and mode while it is upcoming;
    once open, only the closing time and more quantity (the service says why otherwise)."""
    window = get_object_or_404(GrabWindow, pk=_id(pk))
    if window.status in (GrabWindow.Status.CLOSED, GrabWindow.Status.CANCELLED):
        messages.error(request, _("A closed or cancelled window cannot be changed."))
        return redirect("allocation:window-detail", pk=window.pk)
    form = WindowForm(request.POST or None, window=window)
    context = {"form": form, "window": window}
    if request.method == "POST":
        if form.is_valid():
            offers = form.offers()
            if form.is_valid():
                data = form.cleaned_data
                upcoming = window.status == GrabWindow.Status.SCHEDULED
                try:
                    windows.window_edit(
                        window_id=window.pk,
                        user=request.user,
                        name=data["name"],
                        closes_at=data["closes_at"],
                        offers=[windows.Offer(g, q) for g, q in offers],
                        opens_at=data["opens_at"] if upcoming else None,
                        scope=data["scope"] if upcoming else None,
                        stores=list(data["stores"]) if upcoming else None,
                        store_group=data["store_group"] if upcoming else None,
                    )
                except ERRORS as error:
                    form.add_domain_error(error)
                else:
                    messages.success(request, _("Window %(ref)s saved.") % {"ref": window.ref})
                    return redirect("allocation:window-detail", pk=window.pk)
        return respond(request, "allocation/window_form.html", context, status=422)
    return respond(request, "allocation/window_form.html", context)


@permission("allocation.view_grabwindow", "allocation.view_all_stores")
def window_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    window = get_object_or_404(GrabWindow.objects.select_related("warehouse", "policy"), pk=_id(pk))
    context = {
        "window": window,
        "pools": list(window.pools.select_related("goods")),
        "requests": list(selectors.request_list(request.user, window_id=window.pk)[:500]),
        "orders": list(selectors.order_list(request.user).filter(window=window)),
    }
    return respond(request, "allocation/window_detail.html", context, partial="pools")


@permission("allocation.manage_windows")
@require_POST
def window_close_view(request: HttpRequest, pk: str) -> HttpResponse:
    window = get_object_or_404(GrabWindow, pk=_id(pk))
    try:
        close.window_close_now(window_id=window.pk, user=request.user)
    except ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Window closed; orders made, the rest unreserved."))
    return redirect("allocation:window-detail", pk=window.pk)


@permission("allocation.manage_windows")
@require_POST
def window_cancel_view(request: HttpRequest, pk: str) -> HttpResponse:
    window = get_object_or_404(GrabWindow, pk=_id(pk))
    try:
        windows.window_cancel(window_id=window.pk, user=request.user)
    except ERRORS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Window cancelled; its stock is available again."))
    return redirect("allocation:window-detail", pk=window.pk)


@permission("allocation.ship_order")
def pick_list_view(request: HttpRequest, pk: str) -> HttpResponse:
    order = selectors.order_get(request.user, _id(pk))
    if order is None:
        raise Http404
    # like the merged list: only an order still to ship is picked (a cancelled one's stock is
    # no longer held for it; a shipped one has left)
    to_pick = [order] if order.status in (order.Status.CREATED, order.Status.PICKING) else []
    context = {"title": order.ref, "orders": to_pick, "rows": selectors.pick_rows(to_pick)}
    return respond(request, "allocation/pick_list.html", context)


@permission("allocation.ship_order")
def window_pick_list_view(request: HttpRequest, pk: str) -> HttpResponse:
    window = get_object_or_404(GrabWindow, pk=_id(pk))
    found = list(
        selectors.order_list(request.user)
        .filter(window=window, status__in=["created", "picking"])
        .prefetch_related("lines__goods", "lines__balance__bin", "lines__balance__batch")
    )
    context = {"title": window.ref, "orders": found, "rows": selectors.pick_rows(found)}
    return respond(request, "allocation/pick_list.html", context)


@permission("allocation.view_grabwindow", "allocation.view_all_stores")
def window_report_view(request: HttpRequest, pk: str) -> HttpResponse:
    window = get_object_or_404(GrabWindow.objects.select_related("policy"), pk=_id(pk))
    report = selectors.window_report(window)
    if request.GET.get("format") == "csv":
        return _report_csv(window, report)
    context = {
        "window": window,
        "report": report,
        "decisions": selectors.window_decisions(window),
    }
    return respond(request, "allocation/window_report.html", context)


@permission("allocation.view_grabwindow", "allocation.view_all_stores")
def window_decisions_export_view(request: HttpRequest, pk: str) -> HttpResponse:
    """The window's grab decisions (append-only: request, rule, figures, result) as a
    streamed xlsx or csv download, for the stores the user may see."""
    window = get_object_or_404(GrabWindow, pk=_id(pk))
    file_format = request.GET.get("format", writers.XLSX)
    if file_format not in writers.FORMATS:
        raise Http404
    language = translation.get_language()

    def rows():
        with translation.override(language):
            yield from selectors.decision_rows(request.user, window)

    return writers.export_response(
        file_format,
        f"{window.ref}-decisions",
        [str(label) for label in selectors.DECISION_COLUMNS],
        rows(),
        title=_("Grab decisions"),
    )


def _report_csv(window, report) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{window.ref}-report.csv"'
    writer = csv.writer(response)
    writer.writerow([_("Store"), _("Requests"), _("Requested"), _("Granted")])
    for row in report["per_store"]:
        writer.writerow(
            [escape_formula(row["store"].code), row["requests"], row["requested"], row["granted"]]
        )
    return response


@permission("allocation.view_storereturn")
def return_list_view(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.return_list(request.user, status=request.GET.get("status", ""))[:300])
    return respond(request, "allocation/return_list.html", {"returns": rows})


@permission("allocation.receive_return")
@require_http_methods(["GET", "POST"])
def return_receive_view(request: HttpRequest, pk: str) -> HttpResponse:
    store_return = selectors.return_list(request.user).filter(pk=_id(pk)).first()
    if store_return is None:
        raise Http404
    form = ReceiveReturnForm(request.POST or None, warehouse_id=store_return.order.warehouse_id)
    if request.method == "POST" and form.is_valid():
        try:
            returns.return_receive(
                return_id=store_return.pk, bin=form.cleaned_data["bin"], user=request.user
            )
        except ERRORS as error:
            store_return.refresh_from_db(fields=["status"])
            if store_return.status != StoreReturn.Status.RECEIVED:
                form.add_domain_error(error)
            else:  # a double tap: the first one received it
                messages.info(
                    request,
                    _("Return %(ref)s is already received: nothing more to do.")
                    % {"ref": store_return.ref},
                )
                return redirect("allocation:order-detail", pk=store_return.order_id)
        else:
            messages.success(request, _("Return %(ref)s received.") % {"ref": store_return.ref})
            return redirect("allocation:order-detail", pk=store_return.order_id)
    context = {
        "ret": store_return,
        "form": form,
        "lines": list(store_return.lines.select_related("goods")),
    }
    return respond(
        request, "allocation/return_receive.html", context, status=422 if form.errors else 200
    )


@permission("allocation.view_store")
def store_list_view(request: HttpRequest) -> HttpResponse:
    rows = list(Store.objects.for_user(request.user).prefetch_related("managers"))
    return respond(request, "allocation/store_list.html", {"stores": rows})


@permission("allocation.add_store")
@require_http_methods(["GET", "POST"])
def store_create_view(request: HttpRequest) -> HttpResponse:
    form = StoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("allocation:store-list")
    return respond(
        request,
        "allocation/simple_form.html",
        {"form": form, "title": _("New store")},
        status=422 if form.errors else 200,
    )


@permission("allocation.view_policy")
def policy_list_view(request: HttpRequest) -> HttpResponse:
    return respond(request, "allocation/policy_list.html", {"policies": list(Policy.objects.all())})


@permission("allocation.add_policy")
@require_http_methods(["GET", "POST"])
def policy_create_view(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        policy = form.save()
        return redirect("allocation:policy-detail", pk=policy.pk)
    return respond(
        request,
        "allocation/simple_form.html",
        {"form": form, "title": _("New policy")},
        status=422 if form.errors else 200,
    )


@permission("allocation.view_policy")
def policy_detail_view(request: HttpRequest, pk: str) -> HttpResponse:
    policy = get_object_or_404(Policy, pk=_id(pk))
    form = RankingForm(request.GET or None)
    rows = (
        selectors.ranking(policy, form.cleaned_data["goods"], request.user)
        if form.is_valid()
        else []
    )
    return respond(
        request, "allocation/policy_detail.html", {"policy": policy, "form": form, "rows": rows}
    )


@permission("allocation.add_storesales")
@require_http_methods(["GET", "POST"])
def sales_entry_view(request: HttpRequest) -> HttpResponse:
    """Enter one day's sales of one goods for one of my stores (or import a sheet)."""
    stores = selectors.my_stores(request.user)
    form = SalesEntryForm(request.POST or None, stores=stores)
    if request.method == "POST":
        if form.is_valid():
            try:
                sales.store_sales_set(user=request.user, **form.cleaned_data)
            except ERRORS as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Sales saved."))
                return redirect("allocation:sales-entry")
        return respond(request, "allocation/sales_entry.html", {"form": form}, status=422)
    recent = list(
        StoreSales.objects.filter(store__in=stores)
        .select_related("store", "goods")
        .order_by("-day", "-pk")[:20]
    )
    return respond(request, "allocation/sales_entry.html", {"form": form, "recent": recent})


@permission("allocation.change_store")
@require_http_methods(["GET", "POST"])
def store_edit_view(request: HttpRequest, pk: str) -> HttpResponse:
    store = get_object_or_404(Store.objects.for_user(request.user), pk=_id(pk))
    form = StoreForm(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Store %(code)s saved.") % {"code": store.code})
        return redirect("allocation:store-list")
    context = {"form": form, "title": f"{store.code} {store.name}"}
    return respond(
        request, "allocation/simple_form.html", context, status=422 if form.errors else 200
    )


@permission("allocation.change_policy")
@require_http_methods(["GET", "POST"])
def policy_edit_view(request: HttpRequest, pk: str) -> HttpResponse:
    policy = get_object_or_404(Policy, pk=_id(pk))
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Policy saved."))
        return redirect("allocation:policy-detail", pk=policy.pk)
    context = {"form": form, "title": policy.name}
    return respond(
        request, "allocation/simple_form.html", context, status=422 if form.errors else 200
    )


@permission("allocation.view_grabrequest")
def store_report_view(request: HttpRequest) -> HttpResponse:
    """Per store over the last 90 days: requests, grants, fill rate, days of cover (my stores
    for a store manager); CSV with ?format=csv."""
    rows = selectors.store_report(request.user)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="store-report.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [_("Store"), _("Requests"), _("Granted"), _("Requested"), _("Units"), _("Fill rate")]
        )
        for row in rows:
            writer.writerow(
                [
                    escape_formula(row["store"].code),
                    row["requests"],
                    row["granted_requests"],
                    row["asked"],
                    row["units"],
                    row["fill_rate"] if row["fill_rate"] is not None else "",
                ]
            )
        return response
    return respond(request, "allocation/store_report.html", {"rows": rows})
