"""Every error the emulator answers, in one table.

The ids Bubblehouse documents are used verbatim, for exactly the cases the pages
give them. The pages show no id for a few cases the emulator must still answer
(an unparsable body, a failed debug request, an unknown func or path, an
injected server error); those ids are the emulator's own and marked so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    status: int
    id: str
    page: str  # where the pages document it; "" = not on the pages, the emulator's own


_GLOBAL = "Global Errors of UpdateOrders4, UpdateCustomers3 and UpdateEntities1"
INVALID_TOKEN = ErrorKind(401, "invalid_token", _GLOBAL)
RATE_LIMIT_EXCEEDED = ErrorKind(429, "rate_limit_exceeded", _GLOBAL)
INVALID_VERSION = ErrorKind(400, "invalid_global_api_version", _GLOBAL)
OBSOLETE_VERSION = ErrorKind(400, "obsolete_global_api_version", _GLOBAL)
INACCESSIBLE_VERSION = ErrorKind(400, "inaccessible_global_api_version", _GLOBAL)
ENTITY_SET_NOT_FOUND = ErrorKind(400, "entity_set_not_found", "UpdateEntities1 Specific Errors")

# Not on the pages.
INVALID_REQUEST = ErrorKind(400, "invalid_request", "")
UNKNOWN_FUNC = ErrorKind(404, "unknown_func", "")
NOT_FOUND = ErrorKind(404, "not_found", "")
METHOD_NOT_ALLOWED = ErrorKind(405, "method_not_allowed", "")
SERVER_ERROR = ErrorKind(500, "internal_error", "")

ALL = (
    INVALID_TOKEN,
    RATE_LIMIT_EXCEEDED,
    INVALID_VERSION,
    OBSOLETE_VERSION,
    INACCESSIBLE_VERSION,
    ENTITY_SET_NOT_FOUND,
    INVALID_REQUEST,
    UNKNOWN_FUNC,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    SERVER_ERROR,
)


class ApiError(Exception):
    """An error answer: ``{"id", "message"?, "errors"?}`` with the kind's status."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str = "",
        errors: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message or kind.id)
        self.kind, self.message, self.errors = kind, message, errors
        self.headers = headers or {}
        self.status = status or kind.status

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.kind.id}
        if self.message:
            body["message"] = self.message
        if self.errors:
            body["errors"] = list(self.errors)
        return body
