"""Webhook subscriptions and their deliveries over the API (the same services as the screen)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.models import WebhookDelivery, WebhookSubscription
from api.serializers_base import StrictSerializer
from api.v1.base import ApiViewSet
from api.webhooks import delivery as services
from api.webhooks import events
from wms.http import parse_id

PERM = "api.manage_webhooks"


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "description", "is_active", "secret", "created_at"]


class SubscriptionInput(StrictSerializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=events.event_choices()), allow_empty=False
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    is_active = serializers.BooleanField(required=False, default=True)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event",
            "event_id",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
        ]


EXAMPLE = OpenApiExample(
    "ERP",
    value={
        "url": "https://erp.example.com/hooks/wms",
        "events": ["stock.changed", "freeze.created", "freeze.released"],
        "description": "ERP stock sync",
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions", description="With their secrets."),
    retrieve=extend_schema(summary="One subscription", description="With its signing secret."),
    create=extend_schema(
        summary="Subscribe a URL",
        description="Events are signed with the returned `secret` (header `X-WMS-Signature`: "
        '`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`).',
        request=SubscriptionInput,
        responses={201: SubscriptionSerializer},
        examples=[EXAMPLE],
    ),
    update=extend_schema(
        summary="Change a subscription",
        description="URL, events, description, active flag.",
        request=SubscriptionInput,
        responses={200: SubscriptionSerializer},
        examples=[EXAMPLE],
    ),
)
class SubscriptionViewSet(ApiViewSet):
    queryset = WebhookSubscription.objects.none()
    serializer_class = SubscriptionSerializer
    required_perms = {
        name: (PERM,)
        for name in ("list", "retrieve", "create", "update", "deliveries", "redeliver")
    }

    def _subscription(self) -> WebhookSubscription:
        found = WebhookSubscription.objects.filter(pk=self.object_id()).first()
        if found is None:
            raise Http404
        return found

    def list(self, request):
        return self.paged(WebhookSubscription.objects.all(), SubscriptionSerializer)

    def retrieve(self, request, pk=None):
        return Response(SubscriptionSerializer(self._subscription()).data)

    def create(self, request):
        data = self.parse(SubscriptionInput)
        data.pop("is_active")
        made = services.subscription_create(user=request.user, **data)
        return Response(SubscriptionSerializer(made).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        data = self.parse(SubscriptionInput)
        changed = services.subscription_update(subscription=self._subscription(), **data)
        return Response(SubscriptionSerializer(changed).data)

    @extend_schema(
        summary="Deliveries of a subscription",
        description="The delivery log, newest first.",
        responses={200: DeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        subscription = self._subscription()
        return self.paged(subscription.deliveries.all(), DeliverySerializer)

    @extend_schema(
        summary="Redeliver",
        description="Send one delivery again now.",
        request=None,
        responses={200: DeliverySerializer},
    )
    @action(detail=True, methods=["post"], url_path="deliveries/<int:delivery_id>/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        subscription = self._subscription()
        found = subscription.deliveries.filter(pk=parse_id(delivery_id) or 0).first()
        if found is None:
            raise Http404
        return Response(DeliverySerializer(services.delivery_redeliver(delivery=found)).data)
