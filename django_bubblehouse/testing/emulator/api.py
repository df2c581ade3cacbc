"""The emulated Order API as one pure function: a request in, a :class:`Reply` out.

No sockets here, so the HTTP server and the ``responses`` adapter share every
rule: URL and version checks, shop-token verification, body validation, the
state changes, request recording and fault decisions. Transport faults
(timeouts, resets) and latency are only *decided* here; the transport acts them out.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...auth import TokenRejected, verify_token
from ...validation import Problem, validate_request
from .entities import apply_entities
from .faults import FaultConfig
from .state import EmulatorState, RecordedRequest

FUNCS = ("UpdateOrders4", "UpdateCustomers3", "UpdateProducts3", "UpdateEntities1")
_API_PATH = re.compile(r"/api/(?P<version>[^/]+)/(?P<shop>[^/]+)/(?P<func>[^/?]+)")
_MAX_PROBLEMS_IN_MESSAGE = 5


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


class _Refusal(Exception):
    def __init__(
        self, status: int, error_id: str, message: str = "", problems: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.status, self.error_id, self.message, self.problems = (
            status,
            error_id,
            message,
            problems,
        )

    def reply(self) -> Reply:
        body: dict[str, Any] = {"id": self.error_id}
        if self.message:
            body["message"] = self.message
        if self.problems:
            body["problems"] = list(self.problems)
        return Reply(self.status, body)


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
        state.record(
            RecordedRequest(
                method=method,
                path=path,
                func=call.func,
                body=call.payload,
                status=None if reply.transport_fault == "reset" else reply.status,
                error_id=reply.body.get("id") if isinstance(reply.body, dict) else None,
                problems=call.problems,
                fault=call.fault or None,
                received_at=time.time(),
            )
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
        self.problems: tuple[str, ...] = ()
        self.fault = ""

    def run(self) -> Reply:
        match = _API_PATH.fullmatch(self.path)
        if match is None:
            return _Refusal(404, "not_found", f"no such endpoint {self.path}").reply()
        self.func = match["func"]
        if self.method != "POST":
            return _Refusal(405, "method_not_allowed", "the Order API only takes POST").reply()
        fault = self.state.faults.next_fault()
        self.fault = fault.kind
        if fault.status:
            return self._fault_reply(fault.status, fault.delay)
        if fault.kind == "reset":
            return Reply(0, None, transport_fault="reset", delay=fault.delay)
        try:
            reply = self._process(match["version"], match["shop"])
        except _Refusal as refusal:
            self.problems = refusal.problems
            reply = refusal.reply()
        if fault.kind == "timeout":
            delay = fault.delay + self.state.config.faults.timeout_delay
            return Reply(reply.status, reply.body, transport_fault="timeout", delay=delay)
        return Reply(reply.status, reply.body, delay=fault.delay)

    def _fault_reply(self, status: int, delay: float) -> Reply:
        if status != 429:
            return Reply(status, {"id": "internal_error", "message": "injected fault"}, delay=delay)
        retry_after = self.state.config.faults.retry_after
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        message = "You are over the rate limit (injected fault)"
        return Reply(429, {"id": "rate_limit_exceeded", "message": message}, headers, delay=delay)

    def _process(self, version: str, shop: str) -> Reply:
        self._check_version(version)
        self._check_token(shop)
        if self.func not in FUNCS:
            raise _Refusal(404, "unknown_func", f"no such func {self.func!r}")
        self.payload = self._parse()
        self._check_payload()
        self._apply()
        return Reply(200, {"ok": True})

    def _check_version(self, version: str) -> None:
        config = self.state.config
        if version in config.obsolete_versions:
            raise _Refusal(400, "obsolete_global_api_version")
        if version in config.inaccessible_versions:
            raise _Refusal(400, "inaccessible_global_api_version")
        if version not in config.api_versions:
            raise _Refusal(400, "invalid_global_api_version")

    def _check_token(self, shop: str) -> None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Refusal(401, "invalid_token", "missing bearer token")
        if shop != self.state.config.shop:
            raise _Refusal(401, "invalid_token", "unknown shop")
        try:
            verify_token(token.strip(), keys=self.state.config.keys, subject=shop)
        except TokenRejected as rejected:
            raise _Refusal(401, "invalid_token", str(rejected)) from None

    def _parse(self) -> Any:
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _Refusal(400, "invalid_request", "Content-Type must be application/json")
        try:
            # The default parser keeps 12 (int) and 12.0 (float) apart, which the
            # money rules need; NaN/Infinity are not JSON and are refused.
            return json.loads(self.raw, parse_constant=_reject_constant)
        except ValueError as error:
            raise _Refusal(400, "invalid_request", f"body is not valid JSON: {error}") from None

    def _check_payload(self) -> None:
        assert self.func is not None
        problems = validate_request(self.func, self.payload)
        if self.func == "UpdateOrders4" and not self.state.config.allow_order_delete:
            problems += _order_delete_warnings(self.payload)
        debug = isinstance(self.payload, dict) and self.payload.get("debug") is True
        failing = [p for p in problems if debug or not p.warning]
        self.problems = tuple(str(p) for p in problems)
        if failing:
            shown = "; ".join(str(p) for p in failing[:_MAX_PROBLEMS_IN_MESSAGE])
            more = len(failing) - _MAX_PROBLEMS_IN_MESSAGE
            message = shown + (f"; and {more} more" if more > 0 else "")
            raise _Refusal(400, "invalid_request", message, tuple(str(p) for p in failing))

    def _apply(self) -> None:
        state, body = self.state, self.payload
        if self.func == "UpdateOrders4":
            for order in body["orders"]:
                state.upsert_order(order)
        elif self.func == "UpdateCustomers3":
            for customer in body["customers"]:
                state.upsert_customer(customer)
        elif self.func == "UpdateProducts3":
            # Collections first, so products can name the collections of the same request.
            for kind, records, upsert in (
                ("collections", state.collections, state.upsert_collection),
                ("products", state.products, state.upsert_product),
            ):
                for row in body.get(kind, ()):
                    upsert(row)
                if body.get(f"replace_{kind}") is True:
                    state.replace(records, (row["id"] for row in body.get(kind, ())))
        else:
            self._apply_entities(body)

    def _apply_entities(self, body: dict[str, Any]) -> None:
        name = body["entity_set"]
        if name not in self.state.entity_sets:
            raise _Refusal(400, "entity_set_not_found", f"no entity set named {name!r}")
        failures = apply_entities(
            self.state.entity_sets, name, body["entities"], body.get("replace_entities") is True
        )
        self.problems = tuple(failures)
        secondary = self.state.entity_sets[name].parent is not None
        if failures and (secondary or body.get("debug") is True):
            applied = "some rows were applied" if not secondary else "nothing was applied"
            message = f"{'; '.join(failures)} ({applied})"
            raise _Refusal(400, "entity_not_found", message, tuple(failures))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _order_delete_warnings(body: Any) -> list[Problem]:
    orders = body.get("orders") if isinstance(body, dict) else None
    return [
        Problem(f"orders[{i}].deleted", "order deletion is not enabled for this key", True)
        for i, order in enumerate(orders if isinstance(orders, list) else ())
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
            return _Refusal(400, "invalid_request", str(error)).reply()
        return Reply(200, {"ok": True})
    return _Refusal(404, "not_found", f"no such emulator endpoint {method} {path}").reply()
