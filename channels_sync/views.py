"""Screens of platform sync: shops, product sync, matching, bindings (preview, review, audit,
rollback, export), the sync log. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from channels_sync import selectors
from channels_sync.exceptions import ChannelError
from channels_sync.forms import (
    SECRET_FIELDS,
    SECRET_POST_FIELDS,
    ExceptionForm,
    LinkForm,
    MatchingSearchForm,
    ShopForm,
    SyncLogFilter,
)
from channels_sync.hooks import queue_push_soon
from channels_sync.models import (
    BindingChange,
    Listing,
    ListingLinkEvent,
    ProductSyncRun,
    Shop,
    SyncRecord,
)
from channels_sync.services import bindings as binding_services
from channels_sync.services import products as product_services
from channels_sync.services import push as push_services
from channels_sync.services import shops as shop_services
from inventory.models import Goods
from warehouses.models import Warehouse
from wms.http import parse_id, permission, respond
from wms.outbox import enqueue_on_commit
from wms.writers import CSV, XLSX, export_response

LOG_PAGE = 100


def _shop(pk: int) -> Shop:
    return get_object_or_404(Shop, pk=pk)


# -- shops ----------------------------------------------------------------------------------
@permission("channels_sync.view_shop")
@require_http_methods(["GET"])
def shop_list_view(request: HttpRequest) -> HttpResponse:
    return respond(
        request, "channels_sync/shop_list.html", {"shops": selectors.shop_list(request.user)}
    )


@permission("channels_sync.add_shop")
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SECRET_POST_FIELDS)
def shop_create_view(request: HttpRequest) -> HttpResponse:
    return _shop_form(request, None)


@permission("channels_sync.change_shop")
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SECRET_POST_FIELDS)
def shop_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _shop_form(request, _shop(pk))


def _shop_form(request: HttpRequest, shop: Shop | None) -> HttpResponse:
    """Create or edit a shop (``services.shops.shop_save``: the row lock, and a push of every
    goods when a setting the quantities depend on changed)."""
    form = ShopForm(request.POST or None, instance=shop, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = shop_services.shop_save(
            form.save(commit=False), fields=form.Meta.fields, credentials=form.credentials
        )
        messages.success(request, _("Shop %(name)s saved.") % {"name": saved.name})
        return redirect("channels_sync:shop-detail", pk=saved.pk)
    context = {
        "form": form,
        "shop": shop,
        "secret_fields": SECRET_FIELDS,
        "masked": shop.credentials_masked if shop else {},
    }
    return respond(
        request,
        "channels_sync/shop_form.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


@permission("channels_sync.view_shop")
@require_http_methods(["GET"])
def shop_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop(pk)
    context = {
        "shop": shop,
        "masked": shop.credentials_masked,
        "run": shop.product_syncs.first(),
        "pending": shop.outbox.filter(status="pending").count(),
        "failures": shop.sync_records.filter(status="failure").count(),
        "listing_count": shop.listings.exclude(status="deleted").count(),
        "unmatched": shop.listings.filter(goods__isnull=True).exclude(status="deleted").count(),
    }
    return respond(request, "channels_sync/shop_detail.html", context)


@permission("channels_sync.push_stock")
@require_http_methods(["POST"])
def shop_push_view(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop(pk)
    goods_ids = None
    if any(request.POST.getlist("goods")):
        posted = {g for g in (parse_id(v) for v in request.POST.getlist("goods")) if g}
        # only goods this shop sells (a listing's goods or a combo's component): anything else
        # has no listing to push, or no goods row at all
        goods_ids = sorted(posted & set(push_services.shop_goods_ids(shop)))
        if not goods_ids:
            messages.error(
                request, _("None of the chosen goods is sold by this shop: nothing was queued.")
            )
            return _after_push(request, shop)
    try:
        count = push_services.shop_push_now(shop=shop, goods_ids=goods_ids, user=request.user)
    except ChannelError as error:
        messages.error(request, error.message)
    else:
        enqueue_on_commit("channels_sync.push_shop", shop.pk, "manual", request.user.pk)
        messages.success(request, _("%(count)s goods queued for a push.") % {"count": count})
    return _after_push(request, shop)


def _after_push(request: HttpRequest, shop: Shop) -> HttpResponse:
    if request.POST.get("next"):
        return redirect(_safe_next(request))
    return redirect("channels_sync:shop-detail", pk=shop.pk)


def _safe_next(request: HttpRequest) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


# -- product sync ---------------------------------------------------------------------------
@permission("channels_sync.sync_products")
@require_http_methods(["POST"])
def product_sync_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop(pk)
    mode = request.POST.get("mode")
    if mode not in ProductSyncRun.Mode.values:
        mode = ProductSyncRun.Mode.INCREMENTAL
    try:
        product_services.product_sync_start(shop=shop, mode=mode, user=request.user)
    except ChannelError as error:
        messages.error(request, error.message)
    return redirect("channels_sync:shop-detail", pk=shop.pk)


@permission("channels_sync.view_shop")
@require_http_methods(["GET"])
def product_sync_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop(pk)
    return respond(
        request,
        "channels_sync/shop_detail.html",
        {"shop": shop, "run": shop.product_syncs.first()},
        partial="progress",
    )


# -- matching -------------------------------------------------------------------------------
@permission("channels_sync.view_listing")
@require_http_methods(["GET"])
def matching_view(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop(pk)
    search = MatchingSearchForm(request.GET)
    show, q = search.filters()
    if "q" in search.errors:
        messages.error(
            request,
            _(
                "The search text contains a character that cannot be searched for; "
                "the list is not filtered."
            ),
        )
    listings = Listing.objects.filter(shop=shop).select_related("goods").order_by("sku", "pk")
    if show == "unmatched":
        listings = listings.filter(goods__isnull=True).exclude(status="deleted")
    elif show == "matched":
        listings = listings.filter(goods__isnull=False)
    if q:
        listings = listings.filter(Q(sku__icontains=q) | Q(title__icontains=q) | Q(barcode=q))
    rows = list(listings[:200])
    suggestions = (  # one query for the page, whatever the number of listings
        product_services.listings_suggestions([row for row in rows if not row.goods_id])
        if show == "unmatched"
        else {}
    )
    context = {
        "shop": shop,
        "rows": [(row, suggestions.get(row.pk, [])) for row in rows],
        "show": show,
        "q": q,
        "events": ListingLinkEvent.objects.filter(listing__shop=shop).select_related(
            "listing", "goods_before", "goods_after", "user"
        )[:20],
    }
    return respond(request, "channels_sync/matching.html", context)


@permission("channels_sync.sync_products")
@require_http_methods(["POST"])
def listing_link_view(request: HttpRequest, pk: int, listing_pk: int) -> HttpResponse:
    shop = _shop(pk)
    listing = get_object_or_404(Listing, pk=listing_pk, shop=shop)
    form = LinkForm(request.POST)
    if form.is_valid():
        code = form.cleaned_data["goods"].strip()
        goods = Goods.objects.filter(Q(sku__iexact=code) | Q(barcode=code)).first()
        if goods is None:
            messages.error(request, _("No goods has SKU or barcode %(code)s.") % {"code": code})
        else:
            try:
                product_services.listing_link(listing=listing, goods=goods, user=request.user)
            except ChannelError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("Listing %(listing)s linked to %(sku)s.")
                    % {"listing": listing.sku or listing.title, "sku": goods.sku},
                )
    else:
        messages.error(request, _("Type a goods SKU or barcode."))
    return redirect(f"{_matching_url(shop)}?show={request.POST.get('show', 'unmatched')}")


@permission("channels_sync.sync_products")
@require_http_methods(["POST"])
def listing_unlink_view(request: HttpRequest, pk: int, listing_pk: int) -> HttpResponse:
    shop = _shop(pk)
    listing = get_object_or_404(Listing, pk=listing_pk, shop=shop)
    try:
        product_services.listing_unlink(listing=listing, user=request.user)
    except ChannelError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Listing unlinked. Automatic matching leaves it alone from now on: link it by hand."),
        )
    return redirect(f"{_matching_url(shop)}?show=matched")


@permission("channels_sync.sync_products")
@require_http_methods(["POST"])
def matching_bulk_view(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop(pk)
    action = request.POST.get("action")
    ids = [i for i in (parse_id(v) for v in request.POST.getlist("listing")) if i]
    if action == "auto":
        count = product_services.listings_auto_match_all(shop=shop)
        messages.success(request, _("%(count)s listings matched.") % {"count": count})
    elif action == "unlink" and ids:
        count = 0
        for listing in Listing.objects.filter(shop=shop, pk__in=ids, goods__isnull=False):
            product_services.listing_unlink(listing=listing, user=request.user)
            count += 1
        messages.success(
            request,
            _(
                "%(count)s listings unlinked. Automatic matching leaves them alone from now on: "
                "link them by hand."
            )
            % {"count": count},
        )
    elif action == "suggested" and ids:
        result = product_services.listings_link_suggested(
            shop=shop, listing_ids=ids, user=request.user
        )
        messages.success(request, _("%(count)s listings linked.") % {"count": result.linked})
        if result.ambiguous or result.weak:
            messages.warning(
                request,
                _(
                    "Skipped %(ambiguous)s listings with several goods of the same SKU or "
                    "barcode and %(weak)s with no goods of the same SKU or barcode: link them "
                    "by hand."
                )
                % {"ambiguous": result.ambiguous, "weak": result.weak},
            )
    return redirect(_matching_url(shop))


def _matching_url(shop: Shop) -> str:
    from django.urls import reverse

    return reverse("channels_sync:matching", kwargs={"pk": shop.pk})


# -- bindings -------------------------------------------------------------------------------
@permission("channels_sync.view_binding")
@require_http_methods(["GET"])
def bindings_view(request: HttpRequest, pk: int) -> HttpResponse:
    shop = _shop(pk)
    state = selectors.binding_state(shop)
    warehouses = Warehouse.objects.in_bulk([w for w, _p in state.warehouses])
    goods = Goods.objects.in_bulk([e[1] for e in state.exceptions if e[1]])
    context = {
        "shop": shop,
        "bound": [(warehouses[w], p) for w, p in sorted(state.warehouses, key=lambda x: x[1])],
        "exceptions": [
            {
                "warehouse": warehouses.get(e[0]),
                "goods": goods.get(e[1]),
                "listing_id": e[2],
                "mode": e[3],
                "allotment": e[4],
            }
            for e in state.exceptions
        ],
        "unbound_warehouses": Warehouse.objects.filter(is_active=True)
        .exclude(pk__in=[w for w, _p in state.warehouses])
        .order_by("code"),
        "changes": selectors.binding_change_list(shop)[:50],
        "exception_form": ExceptionForm(),
    }
    return respond(request, "channels_sync/bindings.html", context)


def _proposed(request: HttpRequest, shop: Shop):
    """The state a bindings form proposes, with its action and summary (or a ChannelError)."""
    state = selectors.binding_state(shop)
    op = request.POST.get("op")
    warehouse_id = parse_id(request.POST.get("warehouse"))
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first() if warehouse_id else None
    if op in {"bind", "unbind", "exception"} and warehouse is None:
        raise ChannelError(_("Choose a warehouse."))
    if op == "bind":
        priority = parse_id(request.POST.get("priority")) or len(state.warehouses) + 1
        if priority < 1 or priority > 999:
            raise ChannelError(_("Priority must be between 1 and 999."))
        return (
            binding_services.state_with(state, bind=(warehouse.pk, priority)),
            BindingChange.Action.BIND,
            _("Bind %(wh)s (priority %(p)s)") % {"wh": warehouse.code, "p": priority},
        )
    if op == "unbind":
        return (
            binding_services.state_with(state, unbind=warehouse.pk),
            BindingChange.Action.UNBIND,
            _("Unbind %(wh)s") % {"wh": warehouse.code},
        )
    if op == "exception":
        form = ExceptionForm(request.POST)
        if not form.is_valid():
            raise ChannelError("; ".join(str(e) for errors in form.errors.values() for e in errors))
        code = form.cleaned_data["goods"].strip()
        listing_code = form.cleaned_data["listing"].strip()
        goods = listing = None
        if code:
            goods = Goods.objects.filter(sku__iexact=code).first()
            if goods is None:
                raise ChannelError(_("No goods has SKU %(code)s.") % {"code": code})
        else:
            found = list(
                Listing.objects.filter(shop=shop)
                .filter(Q(sku__iexact=listing_code) | Q(variant_ref=listing_code))
                .exclude(status=Listing.Status.DELETED)[:2]
            )
            if len(found) != 1:
                raise ChannelError(
                    _("No single listing of this shop has SKU or variant id %(code)s.")
                    % {"code": listing_code}
                )
            listing = found[0]
        mode = form.cleaned_data["mode"] or None
        allotment = form.cleaned_data.get("allotment")
        label = dict(ExceptionForm.base_fields["mode"].choices).get(form.cleaned_data["mode"])
        return (
            binding_services.state_with(
                state,
                exception=(
                    warehouse.pk,
                    goods.pk if goods else None,
                    listing.pk if listing else None,
                    mode,
                    allotment,
                ),
            ),
            BindingChange.Action.EXCEPTION,
            _("%(sku)s at %(wh)s: %(rule)s%(qty)s")
            % {
                "sku": goods.sku if goods else _("listing %(sku)s") % {"sku": listing.sku},
                "wh": warehouse.code,
                "rule": label,
                "qty": f" {allotment}" if mode == "allotment" else "",
            },
        )
    raise ChannelError(_("Unknown change."))


@permission("channels_sync.view_binding")
@require_http_methods(["GET"])
def binding_exceptions_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The shop's exceptions per goods and per listing (unbound / fixed allotment), filtered by
    warehouse or SKU, with add and remove: each goes through the preview, the review where the
    shop requires it, and the change log (who, when, before/after)."""
    shop = _shop(pk)
    state = selectors.binding_state(shop)
    warehouses = Warehouse.objects.in_bulk([w for w, _p in state.warehouses])
    goods = Goods.objects.in_bulk([e[1] for e in state.exceptions if e[1]])
    listings = Listing.objects.select_related("goods").in_bulk(
        [e[2] for e in state.exceptions if e[2]]
    )
    warehouse_id = parse_id(request.GET.get("warehouse"))
    query = (request.GET.get("q") or "").strip().lower()
    rows = []
    for wh, goods_id, listing_id, mode, allotment in state.exceptions:
        item = goods.get(goods_id) if goods_id else None
        listing = listings.get(listing_id) if listing_id else None
        sku = item.sku if item else (listing.sku if listing else "")
        if warehouse_id and wh != warehouse_id:
            continue
        if query and query not in sku.lower():
            continue
        rows.append(
            {
                "warehouse": warehouses.get(wh),
                "goods": item,
                "listing": listing,
                "mode": mode,
                "allotment": allotment,
            }
        )
    context = {
        "shop": shop,
        "rows": rows,
        "total": len(state.exceptions),
        "bound": [warehouses[w] for w, _p in sorted(state.warehouses, key=lambda x: x[1])],
        "warehouse_id": warehouse_id,
        "q": request.GET.get("q", ""),
        "exception_form": ExceptionForm(),
        "changes": [
            c
            for c in selectors.binding_change_list(shop)[:200]
            if c.action in {BindingChange.Action.EXCEPTION, BindingChange.Action.BULK}
        ][:20],
    }
    return respond(request, "channels_sync/binding_exceptions.html", context)


def _preview(shop: Shop, after) -> dict:
    """The preview pages' rows (sellable before/after per listing) and how many change."""
    preview = binding_services.binding_preview(shop, after)
    return {"preview": preview, "changed": sum(1 for p in preview if p["changed"])}


@permission("channels_sync.request_binding_change")
@require_http_methods(["POST"])
def binding_propose_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Without ``confirm``: the preview (sellable before/after per listing). With it: save."""
    shop = _shop(pk)
    try:
        after, action, summary = _proposed(request, shop)
        if request.POST.get("confirm") != "1":
            context = {
                "shop": shop,
                "summary": summary,
                **_preview(shop, after),
                "posted": [(k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"],
            }
            return respond(request, "channels_sync/binding_preview.html", context)
        change = binding_services.binding_change_request(
            shop=shop, after=after, action=action, summary=summary, user=request.user
        )
    except ChannelError as error:
        messages.error(request, error.message)
    else:
        if change.status == BindingChange.Status.PENDING:
            messages.success(request, _("Change requested: a supervisor must confirm it."))
        else:
            queue_push_soon([shop.pk])
            messages.success(request, _("Bindings saved; the next push follows them."))
    return redirect("channels_sync:bindings", pk=shop.pk)


@permission("channels_sync.view_binding")
@require_http_methods(["GET"])
def binding_change_view(request: HttpRequest, pk: int, change_pk: int) -> HttpResponse:
    """A pending change as the supervisor reviews it: what it does to each listing's sellable
    quantity now (the guide's preview, computed against today's stock), who asked and why, and
    Confirm / Reject for a holder of ``confirm_binding`` other than the requester. A change
    already decided goes back to the change log."""
    shop = _shop(pk)
    change = get_object_or_404(
        BindingChange.objects.select_related("requested_by"), pk=change_pk, shop=shop
    )
    if change.status != BindingChange.Status.PENDING:
        messages.info(request, _("Change #%(id)s was already decided.") % {"id": change.pk})
        return redirect("channels_sync:bindings", pk=shop.pk)
    context = {
        "shop": shop,
        "change": change,
        "summary": change.summary,
        **_preview(shop, selectors.BindingState.from_json(change.after)),
        # the bindings moved since the request: confirming would be refused (StaleBindings)
        "stale": binding_services.binding_change_is_stale(change),
        "can_decide": request.user.has_perm("channels_sync.confirm_binding")
        and change.requested_by_id != request.user.pk,
    }
    return respond(request, "channels_sync/binding_change.html", context)


@permission("channels_sync.confirm_binding")
@require_http_methods(["POST"])
def binding_decide_view(request: HttpRequest, pk: int, change_pk: int) -> HttpResponse:
    change = get_object_or_404(BindingChange, pk=change_pk, shop_id=pk)
    try:
        if request.POST.get("decision") == "confirm":
            binding_services.binding_change_confirm(change=change, user=request.user)
            queue_push_soon([pk])
            messages.success(
                request, _("Change #%(id)s confirmed and applied.") % {"id": change.pk}
            )
        else:
            binding_services.binding_change_reject(change=change, user=request.user)
            messages.success(request, _("Change #%(id)s rejected.") % {"id": change.pk})
    except ChannelError as error:
        messages.error(request, error.message)
    return redirect("channels_sync:bindings", pk=pk)


@permission("channels_sync.request_binding_change")
@require_http_methods(["GET", "POST"])
def binding_rollback_view(request: HttpRequest, pk: int, change_pk: int) -> HttpResponse:
    """GET: the preview of rolling back to before ``change`` (sellable now and after, per
    listing); POST: request the rollback (applied at once, or waiting for review)."""
    shop = _shop(pk)
    change = get_object_or_404(BindingChange, pk=change_pk, shop=shop)
    if request.method == "GET":
        try:
            restored = binding_services.binding_rollback_state(change)
        except ChannelError as error:
            messages.error(request, error.message)
            return redirect("channels_sync:bindings", pk=pk)
        context = {
            "shop": shop,
            "change": change,
            "summary": _("Roll back to before change #%(id)s") % {"id": change.pk},
            **_preview(shop, restored),
        }
        return respond(request, "channels_sync/binding_rollback.html", context)
    try:
        new = binding_services.binding_rollback(change=change, user=request.user)
    except ChannelError as error:
        messages.error(request, error.message)
    else:
        if new.status == BindingChange.Status.PENDING:
            messages.success(request, _("Rollback requested: a supervisor must confirm it."))
        else:
            queue_push_soon([pk])
            messages.success(request, _("Bindings rolled back."))
    return redirect("channels_sync:bindings", pk=pk)


@permission("channels_sync.view_binding")
@require_http_methods(["GET"])
def bindings_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """CSV (or Excel with ``format=xlsx``): every matched listing with its bound warehouses'
    stock and today's sellable. A combo listing has a row per component and warehouse: the
    component, its units per combo and the combos its stock makes there (the last three
    columns; a combo is made from one warehouse's stock, see ``selectors.listing_sellable``)."""
    shop = _shop(pk)
    listings = list(
        Listing.objects.filter(shop=shop, goods__isnull=False)
        .exclude(status="deleted")
        .select_related("goods")
        .order_by("sku", "pk")
    )
    sellable = selectors.listing_sellable(shop, listings)
    codes = dict(Warehouse.objects.values_list("pk", "code"))
    component_ids = [
        part["goods_id"]
        for result in sellable.values()
        for part in result.inputs.get("components", [])
    ]
    component_skus = dict(
        Goods.objects.filter(pk__in=sorted(set(component_ids))).values_list("pk", "sku")
    )
    headers = [
        _("Listing SKU"),
        _("Goods SKU"),
        _("Warehouse"),
        _("Priority"),
        _("Rule"),
        _("On hand"),
        _("Frozen"),
        _("Reserved"),
        _("Counted"),
        _("Sellable"),
        _("Component SKU"),
        _("Units per combo"),
        _("Combos from this component"),
    ]

    def stock(row: Listing, wh: dict, quantity: int) -> list:
        return [
            row.sku,
            row.goods.sku,
            codes.get(wh["warehouse_id"]),
            wh["priority"],
            wh["rule"],
            wh["on_hand"],
            wh["frozen"],
            wh["reserved"],
            wh["counted"],
            quantity,
        ]

    def rows():
        for row in listings:
            result = sellable.get(row.pk)
            if result is None:
                continue
            for wh in result.inputs.get("warehouses", []):
                yield [*stock(row, wh, result.quantity), "", "", ""]
            for part in result.inputs.get("components", []):
                for wh in part["warehouses"]:
                    yield [
                        *stock(row, wh, result.quantity),
                        component_skus.get(part["goods_id"]),
                        part["per_combo"],
                        wh["combos"],  # combos this component's stock makes at that warehouse
                    ]

    file_format = XLSX if request.GET.get("format") == XLSX else CSV
    return export_response(
        file_format, f"bindings-shop-{shop.pk}", headers, rows(), title=str(_("Bindings"))
    )


# -- sync log -------------------------------------------------------------------------------
@permission("channels_sync.view_syncrecord")
@require_http_methods(["GET"])
def sync_log_view(request: HttpRequest) -> HttpResponse:
    form = SyncLogFilter(request.GET or None)
    records = SyncRecord.objects.select_related("shop", "listing", "goods", "user").order_by("-pk")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("shop"):
            records = records.filter(shop=data["shop"])
        if data.get("status"):
            records = records.filter(status=data["status"])
        if data.get("trigger"):
            records = records.filter(trigger=data["trigger"])
        if data.get("q"):
            records = records.filter(
                Q(listing__sku__icontains=data["q"]) | Q(goods__sku__icontains=data["q"])
            )
    before = parse_id(request.GET.get("before"))
    if before:
        records = records.filter(pk__lt=before)
    page = list(records[: LOG_PAGE + 1])
    more = len(page) > LOG_PAGE
    page = page[:LOG_PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    codes = dict(Warehouse.objects.values_list("pk", "code"))
    parts = {  # the SKUs of combo components named in the page's inputs: one query
        part["goods_id"] for r in page for part in (r.inputs or {}).get("components", [])
    }
    context = {
        "form": form,
        "records": page,
        "codes": codes,
        "skus": dict(Goods.objects.filter(pk__in=sorted(parts)).values_list("pk", "sku")),
        "next_before": page[-1].pk if more and page else None,
        "query": query.urlencode(),
    }
    return respond(request, "channels_sync/sync_log.html", context, partial="results")


@permission("channels_sync.push_stock")
@require_http_methods(["POST"])
def sync_retry_view(request: HttpRequest, record_pk: int) -> HttpResponse:
    record = SyncRecord.objects.filter(pk=record_pk).select_related("shop").first()
    if record is None:
        raise Http404
    try:
        push_services.shop_push_now(
            shop=record.shop,
            goods_ids=push_services.goods_behind([record.goods_id]),
            user=request.user,
        )
    except ChannelError as error:
        messages.error(request, error.message)
    else:
        enqueue_on_commit("channels_sync.push_shop", record.shop_id, "manual", request.user.pk)
        messages.success(request, _("Queued again for a push."))
    return redirect(_safe_next(request))
