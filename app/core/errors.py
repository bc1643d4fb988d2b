"""Domain errors carry their HTTP meaning; one handler renders them (page, fragment or JSON)."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params


class NotFound(AppError):
    """What a person may not see answers 404, existence not revealed."""

    status_code = 404
    code = "not_found"


class Forbidden(AppError):
    """What a person sees but may not do answers 403."""

    status_code = 403
    code = "forbidden"


class Conflict(AppError):
    """An illegal state transition or a clash with the current state."""

    status_code = 409
    code = "conflict"


class Invalid(AppError):
    status_code = 422
    code = "invalid"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"
