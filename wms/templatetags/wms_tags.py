from django import template

from wms.roles import ROLE_LABELS

register = template.Library()


@register.filter
def role_label(group_name: str) -> str:
    """The translated label of a role group, or the stored name for a group we do not know."""
    return ROLE_LABELS.get(group_name, group_name)


@register.inclusion_tag("partials/status_badge.html")
def status_badge(obj, field_name: str) -> dict:
    """``{% status_badge sheet "status" %}``: the value's label on a badge coloured as its
    ``TextChoices`` declares (``wms.choices.badges``); booleans read Active/Inactive."""
    from wms.choices import status_badge_context

    return status_badge_context(obj, field_name)


@register.inclusion_tag("wms/background_banner.html")
def background_banner() -> dict:
    """``{% background_banner %}`` (base.html, every page): the warning that background jobs
    are stopped, when the heartbeat is older than two minutes (``health.
    background_status_cached``: at most one query, usually none)."""
    from wms import health

    return {"background": health.background_status_cached()}
