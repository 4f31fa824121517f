"""The API app's own refusals, in the shape of the project's domain errors
(``message``, optional ``field``, a stable ``code``)."""

from __future__ import annotations


class ApiDomainError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message

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
