"""Screens of the API app: the user's API tokens (profile), webhook subscriptions with their
delivery log and redeliver action. Thin: parse a form, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from api import tokens
from api.exceptions import ApiDomainError
from api.forms import SubscriptionForm, TokenForm
from api.models import ApiToken, WebhookDelivery, WebhookSubscription
from api.webhooks import delivery as webhooks
from wms.http import permission, respond

WEBHOOK_PERM = "api.manage_webhooks"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list_view(request: HttpRequest) -> HttpResponse:
    """The user's own tokens; creating one shows it once, on this response only."""
    form = TokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, raw = tokens.token_create(user=request.user, name=form.cleaned_data["name"])
            except ApiDomainError as error:
                form.add_domain_error(error)
                status = 422
            else:
                created = {"token": token, "raw": raw}
                form = TokenForm()
        else:
            status = 422
    context = {"form": form, "created": created, "tokens": tokens.tokens_for(request.user)}
    return respond(request, "api/token_list.html", context, status=status)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404
    tokens.token_revoke(token=token, user=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api:token-list")


@permission(WEBHOOK_PERM)
@require_http_methods(["GET", "POST"])
def webhook_list_view(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                made = webhooks.subscription_create(
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    user=request.user,
                )
            except ApiDomainError as error:
                form.add_domain_error(error)
                status = 422
            else:
                messages.success(request, _("Subscription created."))
                return redirect("api:webhook-detail", pk=made.pk)
        else:
            status = 422
    context = {"form": form, "subscriptions": WebhookSubscription.objects.order_by("pk")}
    return respond(request, "api/webhook_list.html", context, status=status)


@permission(WEBHOOK_PERM)
@require_http_methods(["GET", "POST"])
def webhook_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = WebhookSubscription.objects.filter(pk=pk).first()
    if subscription is None:
        raise Http404
    initial = {
        "url": subscription.url,
        "events": subscription.events,
        "description": subscription.description,
        "is_active": subscription.is_active,
    }
    form = SubscriptionForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                webhooks.subscription_update(subscription=subscription, **form.cleaned_data)
            except ApiDomainError as error:
                form.add_domain_error(error)
                status = 422
            else:
                messages.success(request, _("Subscription saved."))
                return redirect("api:webhook-detail", pk=pk)
        else:
            status = 422
    deliveries = list(
        WebhookDelivery.objects.filter(subscription=subscription)
        .prefetch_related("log")
        .order_by("-pk")[:50]
    )
    context = {"subscription": subscription, "form": form, "deliveries": deliveries}
    return respond(request, "api/webhook_detail.html", context, status=status)


@permission(WEBHOOK_PERM)
@require_POST
def delivery_redeliver_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = WebhookDelivery.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    webhooks.delivery_redeliver(delivery=found)
    messages.success(request, _("Delivery queued again."))
    return redirect("api:webhook-detail", pk=found.subscription_id)


@csrf_exempt  # writes nothing; a POST to a wrong address must get the JSON 404, not a CSRF page
def api_not_found_view(request: HttpRequest) -> JsonResponse:
    """An unknown ``/api/v1/`` address (a malformed id, a typo): the API's 404 body."""
    from api.errors import error_body

    return JsonResponse(error_body("not_found", _("Not found.")), status=404)
