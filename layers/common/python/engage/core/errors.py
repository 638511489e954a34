"""One error family; the HTTP API maps it to responses in one place."""

from __future__ import annotations


class EngageError(Exception):
    """Base of every expected failure. `code` is stable and machine-readable."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def to_body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class Invalid(EngageError):
    status = 400
    code = "invalid"


class Unauthorized(EngageError):
    status = 401
    code = "unauthorized"


class Forbidden(EngageError):
    status = 403
    code = "forbidden"


class NotFound(EngageError):
    status = 404
    code = "not_found"


class Conflict(EngageError):
    status = 409
    code = "conflict"


class RateLimited(EngageError):
    status = 429
    code = "rate_limited"


class StorageError(Exception):
    """An adapter could not complete a storage call; retryable by the platform."""
