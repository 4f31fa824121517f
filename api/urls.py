"""``/api/``: v1 endpoints, the OpenAPI schema and its docs, and the screens of the API app
(tokens on the profile, webhook subscriptions and deliveries)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import views

app_name = "api"

urlpatterns = [
    path("v1/", include("api.v1.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("tokens/", views.token_list_view, name="token-list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("webhooks/", views.webhook_list_view, name="webhook-list"),
    path("webhooks/<int:pk>/", views.webhook_detail_view, name="webhook-detail"),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        views.delivery_redeliver_view,
        name="delivery-redeliver",
    ),
    # Anything else under /api/v1/ is a 404 in the API's own error body, not an HTML page.
    re_path(r"^v1/", views.api_not_found_view),
]
