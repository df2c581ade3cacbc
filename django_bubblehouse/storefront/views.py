"""``storefront/token``: a fresh customer token for the logged-in customer's browser.

Session-authenticated (the storefront's own login), GET only, never cached.
Anyone who is not a logged-in customer gets an error and no token; this view
never returns a shop token.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..conf import get_settings
from ..encoding import dumps
from ..responses import JSON, error_response
from .embed import iframe_url
from .tokens import request_token


# The view answers anonymous visitors itself (401 JSON, not a login redirect).
@login_not_required
@never_cache
@require_GET
def customer_token(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return error_response(401, "login_required", "log in to get a customer token")
    token = request_token(request)
    if not token:
        return error_response(403, "not_a_customer", "this account is not a shop customer")
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=get_settings().customer_token_ttl)
    body = {"token": token, "expires_at": expires, "iframe_url": iframe_url(token)}
    return HttpResponse(dumps(body), content_type=JSON)
