"""``hooks/<name>``: the one URL Bubblehouse calls back, with the hook's name in it.

Checked in this order, each with the API's error shape: an unknown or
disabled hook is 404 (Bubblehouse probes newer names such as ``Hello2``), a
method other than POST is 405, a missing or refused token is 401, a body
that is not JSON is 415 or 400, a missing ``X-Request-ID`` or a bad field is
400, a request id reused for another body is 409, and a handler that raises
is 500 (logged with the request id) so that Bubblehouse retries. CSRF does not
apply: no cookie is ever read, the bearer token is the only credential.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..auth import TokenRejected
from ..encoding import dumps
from ..inbound import check_inbound_bearer
from ..responses import JSON, error_response, method_not_allowed, token_refused
from .dispatch import RequestIdReused, answer_hook
from .handlers import enabled_hooks
from .payloads import InvalidPayload

logger = logging.getLogger(__name__)

MAX_REQUEST_ID = 255


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class HookView(View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = self._answer(request, kwargs["name"])
        response["Cache-Control"] = "no-store"
        return response

    def _answer(self, request: HttpRequest, name: str) -> HttpResponse:
        if name not in enabled_hooks():
            return error_response(404, "hook_not_found", f"this shop does not implement {name}")
        if request.method != "POST":
            return method_not_allowed("POST")
        try:
            check_inbound_bearer(request)
        except TokenRejected as error:
            return token_refused(str(error))
        if request.content_type != JSON:
            return error_response(415, "unsupported_media_type", "send application/json")
        try:
            body = json.loads(request.body)
        except (UnicodeDecodeError, ValueError) as error:
            return error_response(400, "invalid_json", f"the body is not JSON: {error}")
        if not isinstance(body, dict):
            return error_response(400, "invalid_data", "the body must be a JSON object")
        request_id = request.headers.get("X-Request-ID", "").strip()
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            return error_response(
                400, "invalid_request_id", f"send an X-Request-ID of 1-{MAX_REQUEST_ID} characters"
            )
        return self._dispatch_hook(request, name, body, request_id)

    @staticmethod
    def _dispatch_hook(
        request: HttpRequest, name: str, body: dict[str, Any], request_id: str
    ) -> HttpResponse:
        try:
            answer = answer_hook(name, request.body, body, request_id)
        except InvalidPayload as error:
            return error_response(400, "invalid_data", str(error))
        except RequestIdReused:
            return error_response(
                409, "request_id_reused", "this X-Request-ID already answered another body"
            )
        except Exception:
            logger.exception("hook %s failed (X-Request-ID %s)", name, request_id)
            return error_response(
                500, "hook_failed", f"{name} failed on the shop; X-Request-ID {request_id}"
            )
        logger.info(
            "hook %s answered %s (X-Request-ID %s, urgency %s)",
            name,
            answer.status,
            request_id,
            request.headers.get("X-BH-Urgency", "unknown"),
        )
        return HttpResponse(dumps(answer.body), status=answer.status, content_type=JSON)
