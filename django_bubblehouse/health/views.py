"""The health report as JSON, for uptime monitors; never public.

Mount it yourself (``path("bubblehouse/health/", health)``). It answers to a
logged-in staff user, or to ``Authorization: Bearer <HEALTH_TOKEN>`` when that
setting is set; anyone else gets 403 and no data. 200 means healthy, 503 not.
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..conf import get_settings
from .report import collect

UNHEALTHY_STATUS = 503


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    if not _allowed(request):
        return JsonResponse(
            {"id": "forbidden", "message": "staff session or health token required"}, status=403
        )
    report = collect()
    return JsonResponse(report.as_json(), status=200 if report.healthy else UNHEALTHY_STATUS)


def _allowed(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_staff:
        return True
    token = get_settings().health_token
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return bool(
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    )
