from django import template

from wms.roles import ROLE_LABELS

register = template.Library()


@register.filter
def role_label(group_name: str) -> str:
    """The translated label of a role group, or the stored name for a group we do not know."""
    return ROLE_LABELS.get(group_name, group_name)
