"""API tokens, webhook deliveries and their attempt log, read-only in the admin (tokens are
made and revoked on the profile screen; subscriptions on the webhooks screen)."""

from django.contrib import admin

from api.models import ApiToken, WebhookAttempt, WebhookDelivery, WebhookSubscription
from wms.admin import ReadOnlyAdmin, ReadOnlyInline


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    exclude = ["key_hash"]


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "subscription", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "event"]
    inlines = [AttemptInline]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["url", "is_active", "created_at"]
    exclude = ["secret"]
