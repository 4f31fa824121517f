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

WEBHOOK_TOPICS = {"orders/create", "orders/updated", "orders/cancelled", "orders/edited"}


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
    nothing read), then the same upsert as the pull. Answers fast; a failure answers 500 so
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
    try:
        incoming = parse_webhook_order(json.loads(request.body))
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "unreadable order"}, status=400)
    order_webhook_receive(shop=shop, incoming=incoming)
    return JsonResponse({"ok": True})
