"""Per-user API tokens: create (shown once), authenticate, revoke.

A token reads ``wms_<prefix>_<secret>``; only the SHA-256 of the whole string is stored, so a
leaked database does not leak usable tokens. The token carries 32 random bytes: a plain hash
is enough (no password-style stretching needed for a secret nobody chose).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.exceptions import TokenError
from api.models import ApiToken

#: ``last_used_at`` is written at most this often per token (not on every request).
LAST_USED_GRANULARITY = datetime.timedelta(minutes=1)
MAX_ACTIVE_TOKENS = 20


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the raw token (never stored, shown once).
    Raises ``TokenError`` for a blank name or too many active tokens."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(
            _("Give the token a name, e.g. the system that will use it."), field="name"
        )
    if len(name) > 80:
        raise TokenError(_("The name is too long (80 characters at most)."), field="name")
    with transaction.atomic():
        active = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        if len(list(active)) >= MAX_ACTIVE_TOKENS:
            raise TokenError(
                _("You have %(count)s active tokens already: revoke one first.")
                % {"count": MAX_ACTIVE_TOKENS}
            )
        prefix = secrets.token_hex(4)
        raw = f"wms_{prefix}_{secrets.token_urlsafe(32)}"
        token = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, key_hash=hash_token(raw)
        )
    return token, raw


def token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoke one of ``user``'s tokens (compare-and-set; revoking twice changes nothing).
    Raises ``TokenError`` for another user's token."""
    if token.user_id != user.pk:
        raise TokenError(_("This token belongs to another user."))
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The active token ``raw`` names (with its user), or None. Touches ``last_used_at`` at
    most once a minute."""
    if not raw or len(raw) > 200 or not raw.isascii():
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_for(user) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-pk"))
