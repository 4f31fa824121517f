"""The API enforces the same Django permissions as the screens.

Each view names, per action, the permissions the matching screen checks::

    required_perms = {
        "list": ("inventory.view_inboundsheet",),
        "post": ("inventory.view_inboundsheet", "inventory.post_sheet"),
    }

An action missing from the map is refused (nothing is open by accident). Viewsets key it by
``view.action`` (``list``, ``retrieve``, ``create``, custom ``@action`` names), plain views by
the lower-case HTTP method. Object scoping (a store manager sees his stores only) is the
selectors' business: views fetch every object through a selector that takes the user, so a
row outside the user's scope is a 404, exactly as on the screens. New apps (allocation,
channels) add their views with their own ``required_perms`` and selectors; nothing here changes.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission


def required_perms(view, request) -> tuple[str, ...] | None:
    mapping = getattr(view, "required_perms", None) or {}
    action = getattr(view, "action", None) or request.method.lower()
    if request.method == "OPTIONS":
        action = getattr(view, "action", None) or "options"
        return mapping.get(action, mapping.get("list", ()))
    return mapping.get(action)


class ActionPermissions(BasePermission):
    """Authenticated, then every permission the view's ``required_perms`` names for the action."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action_map = getattr(view, "action_map", None)
        handled = (
            request.method.lower() in action_map
            if action_map is not None
            else hasattr(view, request.method.lower())
        )
        if not handled:
            return True  # no such method here: DRF answers 405, not 403
        perms = required_perms(view, request)
        if perms is None:
            return False
        return user.has_perms(perms)
