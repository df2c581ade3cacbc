"""The emulated Order API as one pure function: a request in, a :class:`Reply` out.

No sockets here, so the HTTP server and the ``responses`` adapter share every
rule: URL and version checks, shop-token verification, body checks, the state
changes, request recording and fault decisions. Transport faults (timeouts,
resets) and latency are only *decided* here; the transport acts them out.

The contract of the pages: a body that is JSON and has the documented shape is
answered 200 ``{"ok": true}``; its invalid objects are left out and recorded as
processing errors (Bubblehouse emails them later). With ``"debug": true`` the
same problems, warnings included, fail the request with 400 and nothing is applied.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .applying import apply_body
from .checking import Finding, check_flags, check_items, shape_error
from .errors import ApiError
from .faults import FaultConfig
from .rules import REQUESTS
from .state import EmulatorState, ProcessingError, RecordedRequest
from .tokens import TokenRefused, check_shop_token

_API_PATH = re.compile(r"/api/(?P<version>[^/]+)/(?P<shop>[^/]+)/(?P<func>[^/?]+)")
_MAX_IN_MESSAGE = 5


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    transport_fault: str = ""  # "timeout" or "reset": the transport must misbehave
    delay: float = 0.0  # latency to add before replying

    def body_bytes(self) -> bytes:
        return json.dumps(self.body).encode()

    def all_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", **self.headers}


def _error_reply(error: ApiError) -> Reply:
    return Reply(error.status, error.body(), error.headers)


def handle(
    state: EmulatorState, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> Reply:
    """Answer one HTTP request as Bubblehouse would."""
    path = path.split("?", 1)[0]
    if path.startswith("/_emulator/"):
        return _inspection(state, method, path, body)
    with state.lock:
        call = _Call(state, method, path, {k.lower(): v for k, v in headers.items()}, body)
        reply = call.run()
        number = len(state.requests)
        state.record(
            RecordedRequest(
                method=method,
                path=path,
                func=call.func,
                body=call.payload,
                status=None if reply.transport_fault == "reset" else reply.status,
                error_id=reply.body.get("id") if isinstance(reply.body, dict) else None,
                problems=tuple(str(f) for f in call.findings),
                fault=call.fault or None,
                received_at=time.time(),
            ),
            [
                ProcessingError(number, call.func or "", f.path, f.message)
                for f in call.findings
                if not f.warning and reply.status == 200
            ],
        )
        return reply


class _Call:
    """One API request on its way through the checks."""

    def __init__(
        self, state: EmulatorState, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> None:
        self.state, self.method, self.path = state, method, path
        self.headers, self.raw = headers, body
        self.func: str | None = None
        self.payload: Any = body.decode("utf-8", "replace") if body else None
        self.findings: list[Finding] = []
        self.fault = ""

    def run(self) -> Reply:
        match = _API_PATH.fullmatch(self.path)
        if match is None:
            return _error_reply(ApiError(errors.NOT_FOUND, f"no such endpoint {self.path}"))
        self.func = match["func"]
        if self.method != "POST":
            message = "the Order API only takes POST"
            return _error_reply(ApiError(errors.METHOD_NOT_ALLOWED, message))
        fault = self.state.faults.next_fault()
        self.fault = fault.kind
        if fault.status:
            reply = _error_reply(self._injected(fault.status))
            return Reply(reply.status, reply.body, reply.headers, delay=fault.delay)
        if fault.kind == "reset":
            return Reply(0, None, transport_fault="reset", delay=fault.delay)
        try:
            reply = self._process(match["version"], match["shop"])
        except ApiError as error:
            reply = _error_reply(error)
        if fault.kind == "timeout":
            delay = fault.delay + self.state.config.faults.timeout_delay
            return Reply(reply.status, reply.body, transport_fault="timeout", delay=delay)
        return Reply(reply.status, reply.body, reply.headers, delay=fault.delay)

    def _injected(self, status: int) -> ApiError:
        if status != 429:
            return ApiError(errors.SERVER_ERROR, "injected fault", status=status)
        retry_after = self.state.config.faults.retry_after
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        message = "You are over the rate limit (injected fault)"
        return ApiError(errors.RATE_LIMIT_EXCEEDED, message, headers=headers)

    def _process(self, version: str, shop: str) -> Reply:
        self._check_version(version)
        self._check_token(shop)
        if self.func not in REQUESTS:
            raise ApiError(errors.UNKNOWN_FUNC, f"no such func {self.func!r}")
        retry_after = self.state.rate_limiter.retry_after(shop)
        if retry_after is not None:
            limit = self.state.config.faults.rate_limit
            message = f"You are over the limit of {limit} requests per second for this shop"
            headers = {"Retry-After": str(retry_after)}
            raise ApiError(errors.RATE_LIMIT_EXCEEDED, message, headers=headers)
        self.payload = self._parse()
        broken = shape_error(self.func, self.payload)
        if broken:
            raise ApiError(errors.INVALID_REQUEST, broken)
        self._check_and_apply(self.func, self.payload)
        return Reply(200, {"ok": True})

    def _check_version(self, version: str) -> None:
        config = self.state.config
        if version in config.obsolete_versions:
            raise ApiError(errors.OBSOLETE_VERSION)
        if version in config.inaccessible_versions:
            raise ApiError(errors.INACCESSIBLE_VERSION)
        if version not in config.api_versions:
            raise ApiError(errors.INVALID_VERSION)

    def _check_token(self, shop: str) -> None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(errors.INVALID_TOKEN, "missing bearer token")
        if shop != self.state.config.shop:
            raise ApiError(errors.INVALID_TOKEN, "unknown shop")
        try:
            check_shop_token(token.strip(), keys=self.state.config.keys, shop=shop)
        except TokenRefused as refused:
            raise ApiError(errors.INVALID_TOKEN, str(refused)) from None

    def _parse(self) -> Any:
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(errors.INVALID_REQUEST, "Content-Type must be application/json")
        try:
            # The default parser keeps 12 (int) and 12.0 (float) apart, which the
            # money rules need; NaN/Infinity are not JSON and are refused.
            return json.loads(self.raw, parse_constant=_reject_constant)
        except ValueError as error:
            raise ApiError(errors.INVALID_REQUEST, f"body is not valid JSON: {error}") from None

    def _check_and_apply(self, func: str, body: dict[str, Any]) -> None:
        debug = body.get("debug") is True
        if func == "UpdateEntities1" and body["entity_set"] not in self.state.entity_sets:
            message = f"no entity set named {body['entity_set']!r}"
            raise ApiError(errors.ENTITY_SET_NOT_FOUND, message)
        by_item = check_items(func, body)
        self.findings = check_flags(func, body) + [f for found in by_item.values() for f in found]
        if func == "UpdateOrders4" and not self.state.config.allow_order_delete:
            self.findings += _order_delete_warnings(body)
        if debug and self.findings:
            self._fail(self.findings, "nothing was applied")
        invalid = {key for key, found in by_item.items() if any(not f.warning for f in found)}
        failures = apply_body(self.state, func, body, invalid, atomic=debug)
        self.findings += failures
        if debug and failures:
            self._fail(failures, "nothing was applied")

    @staticmethod
    def _fail(findings: list[Finding], outcome: str) -> None:
        shown = "; ".join(str(f) for f in findings[:_MAX_IN_MESSAGE])
        more = len(findings) - _MAX_IN_MESSAGE
        message = f"{shown}{f'; and {more} more' if more > 0 else ''} ({outcome})"
        raise ApiError(errors.INVALID_REQUEST, message, tuple(str(f) for f in findings))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _order_delete_warnings(body: dict[str, Any]) -> list[Finding]:
    return [
        Finding(
            f"orders[{i}].deleted", "order deletion is not enabled for this key (ignored)", True
        )
        for i, order in enumerate(body["orders"])
        if isinstance(order, dict) and order.get("deleted") is True
    ]


def _inspection(state: EmulatorState, method: str, path: str, body: bytes) -> Reply:
    route = (method, path.removeprefix("/_emulator/").rstrip("/"))
    if route == ("GET", "state"):
        return Reply(200, state.summary())
    if route == ("GET", "requests"):
        return Reply(200, [r.as_dict() for r in state.requests])
    if route == ("POST", "reset"):
        state.reset()
        return Reply(200, {"ok": True})
    if route == ("GET", "faults"):
        return Reply(200, state.config.faults.to_json())
    if route == ("POST", "faults"):
        try:
            state.set_faults(FaultConfig.from_json(json.loads(body or b"{}")))
        except (ValueError, TypeError) as error:
            return _error_reply(ApiError(errors.INVALID_REQUEST, str(error)))
        return Reply(200, {"ok": True})
    return _error_reply(ApiError(errors.NOT_FOUND, f"no such emulator endpoint {method} {path}"))
