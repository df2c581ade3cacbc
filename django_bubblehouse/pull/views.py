"""Pull URL views: feeds of updated objects and the single order of notify-then-pull.

Every response, including errors, is ``Cache-Control: no-store``: the bodies
are private shop data and must not sit in a proxy. Only GET is served.

A feed page costs one keyset query for its keys plus the serializer's fixed
``serialize_keys`` batch, whatever the page size. An object whose serializer
fails is left out of the page, logged, and (JSON only) listed in ``errors``
with its key and the reason; the rest of the page is served.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..auth import TokenRejected
from ..conf import get_settings
from ..encoding import dumps
from ..keyset import InvalidCursor, Keyset, Page, encode_cursor
from ..kinds import Kind
from ..responses import error_response, method_not_allowed, token_refused
from ..serializers import Serializer
from ..serializers.registry import all_serializers
from .auth import check_bearer
from .formats import CONTENT_TYPES, STREAMED_FORMATS, csv_lines, json_lines, json_page
from .params import BadParameter, parse_feed_params

logger = logging.getLogger(__name__)

Payload = dict[str, Any]


def serializer_for(kind: Kind) -> Serializer | None:
    """The first registered serializer of ``kind`` (registration order decides)."""
    found = next((cls for cls in all_serializers() if cls.kind == kind), None)
    return found() if found is not None else None


# Exempt so that a POST gets the API's 405 below rather than an HTML CSRF page:
# these views never read cookies and never change anything. The bearer token is
# the credential, so a host's LoginRequiredMiddleware must not redirect Bubblehouse.
@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class PullView(View):
    http_method_names = ["get"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = self._checked_dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    def _checked_dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if request.method != "GET":
            return method_not_allowed("GET")
        try:
            check_bearer(request)
        except TokenRejected as error:
            return token_refused(str(error))
        return super().dispatch(request, *args, **kwargs)


def _serve(serializer: Serializer, keys: Sequence[str]) -> tuple[list[Payload], list[Payload]]:
    """The page's payloads in key order, and one ``{"key", "message"}`` per failed object."""
    result = serializer.serialize_keys(keys)
    errors = []
    for key, error in result.errors.items():
        shown = error.object_id or key  # the id the user knows, when it could be read
        logger.warning("pull feed skipped %s %s: %s", serializer.kind, shown, error)
        errors.append({"key": shown, "message": str(error)})
    return [result.payloads[key] for key in keys if key in result.payloads], errors


class FeedView(PullView):
    """``<kind>.<format>``: objects in ``(updated_field, pk)`` order, from a cursor."""

    kind: Kind = Kind.ORDERS
    feed_format: str = "json"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        serializer = serializer_for(self.kind)
        if serializer is None:
            return error_response(404, "feed_not_found", f"no serializer serves {self.kind}")
        scope = serializer.label()
        try:
            params = parse_feed_params(
                request.GET,
                scope=scope,
                timed=serializer.updated_field is not None,
                cap=get_settings().pull_page_size,
                streamed=self.feed_format in STREAMED_FORMATS,
            )
            keyset = Keyset(
                serializer.get_queryset(), time_field=serializer.updated_field, since=params.since
            )
            first = keyset.page(after=params.after, limit=params.limit)
        except BadParameter as error:
            return error_response(400, error.error_id, error.message)
        except InvalidCursor as error:
            return error_response(400, "invalid_cursor", str(error))
        if self.feed_format == "json":
            return self._json_page(request, serializer, first, scope)
        if params.whole:
            payloads = self._walk(serializer, keyset, first, params.limit)
        else:
            payloads = iter(_serve(serializer, first.keys)[0])
        lines = (
            json_lines(payloads) if self.feed_format == "jsonl" else csv_lines(self.kind, payloads)
        )
        response = StreamingHttpResponse(lines, content_type=CONTENT_TYPES[self.feed_format])
        next_cursor, next_url = _next(request, first, scope)
        if next_cursor is not None and not params.whole:
            # A streamed page has no envelope: the way on is in the headers.
            response["X-Next-Cursor"] = next_cursor
            response["Link"] = f'<{next_url}>; rel="next"'
        return response

    def _json_page(
        self, request: HttpRequest, serializer: Serializer, page: Page, scope: str
    ) -> HttpResponse:
        items, errors = _serve(serializer, page.keys)
        next_cursor, next_url = _next(request, page, scope)
        body = json_page(items, errors, next_cursor=next_cursor, next_url=next_url)
        return HttpResponse(body, content_type=CONTENT_TYPES["json"])

    @staticmethod
    def _walk(serializer: Serializer, keyset: Keyset, page: Page, limit: int) -> Iterator[Payload]:
        """The whole feed from ``page`` on, one page in memory at a time."""
        while True:
            yield from _serve(serializer, page.keys)[0]
            if page.next is None:
                return
            page = keyset.page(after=page.next, limit=limit)


def _next(request: HttpRequest, page: Page, scope: str) -> tuple[str | None, str | None]:
    """The cursor after ``page`` and this request's URL with it, or ``(None, None)``."""
    if page.next is None:
        return None, None
    next_cursor = encode_cursor(page.next, scope=scope)
    query = request.GET.copy()
    query["cursor"] = next_cursor
    return next_cursor, request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class OrderView(PullView):
    """``orders/<id>/``: one Order2 by its Bubblehouse id (the order number when the
    serializer's ``id`` reads one), for Bubblehouse to fetch after a storefront webhook."""

    def get(self, request: HttpRequest, key: str) -> HttpResponse:
        serializer = serializer_for(Kind.ORDERS)
        if serializer is None:
            return _order_not_found()
        try:
            internal = serializer.keys_for_ids([key]).get(key)
        except ImproperlyConfigured as problem:  # a computed id without id_lookup()
            logger.error("pull order %s: %s", key, problem)
            return error_response(500, "configuration_error", str(problem))
        if internal is None:
            return _order_not_found()
        result = serializer.serialize_keys([internal])
        if internal in result.payloads:
            return HttpResponse(
                dumps(result.payloads[internal]), content_type=CONTENT_TYPES["json"]
            )
        if internal in result.errors:
            error = result.errors[internal]
            logger.error("pull order %s failed to serialize: %s", key, error)
            return error_response(500, "serialization_error", str(error))
        return _order_not_found()


def _order_not_found() -> HttpResponse:
    return error_response(404, "not_found", "no such order")
