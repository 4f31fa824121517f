"""Screens and endpoints of orders (issue 12): the Shopify order webhooks, the order list and
detail, confirming, labels, logistics rules with their tester, carriers, and the metrics
dashboard. Thin: parse, call a service or selector, render."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels_sync.models import Shop

logger = logging.getLogger(__name__)

# The order resource's topics. ``orders/edited`` is not one: its body is ``{"order_edit":
# {order_id, line_items: {additions, removals}}}`` and Shopify sends ``orders/updated`` with the
# whole order for the same edit, so it is acknowledged and ignored like any other topic.
WEBHOOK_TOPICS = {"orders/create", "orders/updated", "orders/cancelled"}


def shopify_hmac_valid(raw: bytes, header: str, secret: str) -> bool:
    """shopify.dev "Verify a webhook": base64 of the HMAC-SHA256 of the raw body with the app's
    secret, compared in constant time."""
    if not secret or not header:
        return False
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(digest, header)


@csrf_exempt
@require_http_methods(["POST"])
def order_webhook_view(request: HttpRequest, shop_pk: int) -> HttpResponse:
    """Shopify ``orders/*`` webhooks: verified by ``X-Shopify-Hmac-Sha256`` (401 otherwise,
    nothing read), then the same upsert as the pull; for a shop whose order pull is off,
    acknowledged and ignored. Answers fast; a failure answers 500 so
    Shopify delivers it again (and the 15-minute pull catches it anyway)."""
    from channels_sync.adapters.shopify_orders import parse_webhook_order
    from channels_sync.services.orders import order_webhook_receive

    shop = get_object_or_404(Shop, pk=shop_pk, platform="shopify", is_active=True)
    secret = dict(shop.credentials or {}).get("webhook_secret", "")
    if not shopify_hmac_valid(
        request.body, request.headers.get("X-Shopify-Hmac-Sha256", ""), secret
    ):
        return JsonResponse({"error": "invalid signature"}, status=401)
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in WEBHOOK_TOPICS:
        return JsonResponse({"ignored": topic})
    if not shop.is_order_pull_enabled:
        # The merchant switched this shop's orders off: acknowledged (a refused delivery is
        # redelivered, and Shopify drops subscriptions that keep failing), nothing written.
        return JsonResponse({"ignored": "order pull is off"})
    try:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise TypeError("not an order object")
        incoming = parse_webhook_order(body)
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
        # ArithmeticError: decimal.InvalidOperation for an amount that is not a number;
        # AttributeError: a nested field that is not an object (a null line item)
        return JsonResponse({"error": "unreadable order"}, status=400)
    order_webhook_receive(shop=shop, incoming=incoming)
    return JsonResponse({"ok": True})


# -- screens ----------------------------------------------------------------------------------
from django.contrib import messages  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.http import Http404  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402

from channels_sync import selectors_orders  # noqa: E402
from channels_sync.exceptions import ChannelError  # noqa: E402
from channels_sync.forms_orders import (  # noqa: E402
    CARRIER_SECRETS,
    CarrierForm,
    OrderFilter,
    PullForm,
    RuleForm,
    RuleTestForm,
)
from channels_sync.models import Carrier, LogisticsRule, Order, Shipment  # noqa: E402
from channels_sync.services import shipping  # noqa: E402
from wms.http import parse_id, permission, respond  # noqa: E402
from wms.outbox import enqueue_on_commit  # noqa: E402

ORDER_PAGE = 100


@permission("channels_sync.view_order")
@require_http_methods(["GET"])
def order_list_view(request: HttpRequest) -> HttpResponse:
    form = OrderFilter(request.GET or None)
    orders = Order.objects.select_related("shop", "warehouse").order_by("-pk")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("status"):
            orders = orders.filter(status=data["status"])
        if data.get("shop"):
            orders = orders.filter(shop=data["shop"])
        if data.get("warehouse"):
            orders = orders.filter(warehouse=data["warehouse"])
        if data.get("q"):
            orders = orders.filter(
                Q(name__icontains=data["q"]) | Q(customer_name__icontains=data["q"])
            )
    before = parse_id(request.GET.get("before"))
    if before:
        orders = orders.filter(pk__lt=before)
    page = list(orders[: ORDER_PAGE + 1])
    more = len(page) > ORDER_PAGE
    page = page[:ORDER_PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "orders": page,
        "pull_form": PullForm(prefix="pull"),
        "shop_settings": selectors_orders.order_settings_list(),
        "next_before": page[-1].pk if more and page else None,
        "query": query.urlencode(),
    }
    return respond(request, "channels_sync/order_list.html", context, partial="results")


@permission("channels_sync.view_order")
@require_http_methods(["GET"])
def order_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors_orders.order_get(pk)
    if order is None:
        raise Http404
    rule, trace = shipping.rule_choose(shipping.order_facts(order))
    context = {"order": order, "rule": rule, "trace": trace}
    return respond(request, "channels_sync/order_detail.html", context)


@permission("channels_sync.confirm_order")
@require_http_methods(["POST"])
def order_confirm_view(request: HttpRequest) -> HttpResponse:
    ids = [i for i in (parse_id(v) for v in request.POST.getlist("orders")) if i]
    if not ids:
        messages.error(request, _("Tick the orders to confirm first."))
        return redirect("channels_sync:order-list")
    confirmed, refused = shipping.orders_confirm(order_ids=ids, user=request.user)
    if confirmed:
        messages.success(
            request,
            _("%(n)s order(s) confirmed: booking with the carrier.") % {"n": len(confirmed)},
        )
    for _pk, reason in sorted(refused.items()):
        messages.error(request, reason)
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("channels_sync:order-list")


@permission("channels_sync.confirm_order")
@require_http_methods(["POST"])
def shipment_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = get_object_or_404(Shipment, pk=pk)
    try:
        if shipment.status == Shipment.Status.FAILED:
            shipping.shipment_retry(shipment_id=pk, user=request.user)
        else:
            shipping.fulfilment_report_retry(shipment_id=pk)
        messages.success(request, _("Trying again."))
    except ChannelError as exc:
        messages.error(request, exc.message)
    return redirect("channels_sync:order-detail", shipment.order_id)


@permission("channels_sync.view_order")
@require_http_methods(["GET"])
def shipment_label_view(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = get_object_or_404(Shipment, pk=pk)
    if not shipment.label_pdf:
        raise Http404
    response = HttpResponse(bytes(shipment.label_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{shipment.order_id}.pdf"'
    return response


@permission("channels_sync.confirm_order")
@require_http_methods(["POST"])
def orders_pull_view(request: HttpRequest) -> HttpResponse:
    form = PullForm(request.POST, prefix="pull")
    if not form.is_valid():
        messages.error(
            request,
            _("Choose a shop to pull orders from: an active shop with its order pull switched on."),
        )
        return redirect("channels_sync:order-list")
    with transaction.atomic():
        enqueue_on_commit("channels_sync.orders_pull", form.cleaned_data["shop"].pk, "manual")
    messages.success(request, _("Pulling orders; the pull log shows the result."))
    return redirect("channels_sync:order-list")


# -- logistics rules and carriers -------------------------------------------------------------
@permission("channels_sync.view_logisticsrule")
@require_http_methods(["GET", "POST"])
def rule_list_view(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("channels_sync.add_logisticsrule"):
            raise Http404
        if form.is_valid():
            form.save()
            messages.success(request, _("Rule saved."))
            return redirect("channels_sync:rule-list")
        status = 422
    tester = RuleTestForm(request.GET or None)
    trace = winner = None
    if tester.is_valid():
        data = tester.cleaned_data
        facts = shipping.OrderFacts(
            shop_id=data["shop"].pk if data.get("shop") else None,
            country=data["country"].upper(),
            state=data.get("state") or "",
            postcode=data.get("postcode") or "",
            weight=data["weight"],
            value=data["value"],
            category_ids={data["category"].pk} if data.get("category") else set(),
        )
        winner, trace = shipping.rule_choose(facts)
    context = {
        "rules": LogisticsRule.objects.select_related("shop", "carrier", "category"),
        "form": form,
        "tester": tester,
        "trace": trace,
        "winner": winner,
        "tested": tester.is_bound and tester.is_valid(),
    }
    return respond(request, "channels_sync/rule_list.html", context, status=status)


@permission("channels_sync.change_logisticsrule")
@require_http_methods(["POST"])
def rule_toggle_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(LogisticsRule, pk=pk)
    LogisticsRule.objects.filter(pk=pk).update(is_active=not rule.is_active)
    return redirect("channels_sync:rule-list")


@permission("channels_sync.view_carrier")
@require_http_methods(["GET", "POST"])
def carrier_list_view(request: HttpRequest) -> HttpResponse:
    form = CarrierForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("channels_sync.add_carrier"):
            raise Http404
        if form.is_valid():
            carrier = form.save(commit=False)
            carrier.credentials = form.credentials({})
            carrier.save()
            messages.success(request, _("Carrier saved."))
            return redirect("channels_sync:carrier-list")
        status = 422
    context = {
        "carriers": Carrier.objects.all(),
        "form": form,
        "secret_names": CARRIER_SECRETS,
    }
    return respond(request, "channels_sync/carrier_list.html", context, status=status)


@permission("channels_sync.view_order")
@require_http_methods(["GET"])
def metrics_view(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("days") or ""
    # ASCII digits only: "²" passes isdigit() but not int(), and int() refuses 4,300+ digits
    days = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 28
    context = selectors_orders.order_metrics(days=days)
    return respond(request, "channels_sync/order_metrics.html", context)


@permission("channels_sync.change_shop")
@require_http_methods(["POST"])
def order_settings_view(request: HttpRequest, shop_pk: int) -> HttpResponse:
    from channels_sync.forms_orders import OrderSettingsForm
    from channels_sync.models import ShopOrderSettings

    shop = get_object_or_404(Shop, pk=shop_pk)
    row, _created = ShopOrderSettings.objects.get_or_create(shop=shop)
    form = OrderSettingsForm(request.POST, instance=row)
    if form.is_valid():
        form.save()
        messages.success(request, _("Order settings of %(shop)s saved.") % {"shop": shop.name})
    else:
        messages.error(request, _("Pull every (minutes) must be a whole number of at least 1."))
    return redirect("channels_sync:order-list")
