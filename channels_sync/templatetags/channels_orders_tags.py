from django import template

register = template.Library()


@register.inclusion_tag("channels_sync/_order_pulls.html")
def recent_order_pulls(limit: int = 20) -> dict:
    """The last order pulls (shown on the sync-log screen)."""
    from channels_sync.models import OrderPull

    return {"pulls": list(OrderPull.objects.select_related("shop").order_by("-pk")[:limit])}
