"""The API app's own refusals (``wms.errors.DomainError``), with the HTTP status each means."""

from __future__ import annotations

from wms.errors import DomainError


class ApiDomainError(DomainError):
    code = "invalid"
    status = 400

    def with_status(self, status: int) -> ApiDomainError:
        self.status = status
        return self


class TokenError(ApiDomainError):
    code = "token_error"


class IdempotencyConflict(ApiDomainError):
    code = "idempotency_conflict"
    status = 409


class WebhookError(ApiDomainError):
    code = "webhook_error"
