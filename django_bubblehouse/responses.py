"""JSON error answers in the Order API's own shape, for every URL this app serves."""

from __future__ import annotations

from django.http import HttpResponse

from .encoding import dumps

JSON = "application/json"


def error_response(status: int, error_id: str, message: str) -> HttpResponse:
    """``{"id": ..., "message": ...}``, so Bubblehouse reads our errors like its own."""
    return HttpResponse(
        dumps({"id": error_id, "message": message}), status=status, content_type=JSON
    )


def method_not_allowed(method: str) -> HttpResponse:
    response = error_response(405, "method_not_allowed", f"only {method} is allowed")
    response["Allow"] = method
    return response


def token_refused(reason: str) -> HttpResponse:
    response = error_response(401, "invalid_token", reason)
    response["WWW-Authenticate"] = 'Bearer realm="bubblehouse"'
    return response
