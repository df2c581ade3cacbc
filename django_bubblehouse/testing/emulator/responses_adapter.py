"""Serve the emulator in-process through ``responses``: no socket, same rules.

    with responses.RequestsMock() as rsps:
        state = EmulatorState(EmulatorConfig(shop="testshop", keys=...))
        add_emulator(rsps, state, "https://app.bubblehouse.com")

Transport faults become the exceptions ``requests`` would raise; latency is not
slept (in-process tests have no reason to wait).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests
import responses

from .api import handle
from .state import EmulatorState


def add_emulator(
    rsps: responses.RequestsMock,
    state: EmulatorState,
    base_url: str = "https://app.bubblehouse.com",
) -> None:
    """Route POSTs to ``base_url`` (scheme and host) through the emulator.

    Only POST is registered (the Order API takes nothing else), so a
    ``RequestsMock`` that asserts all its mocks fired is satisfied by one push.
    """
    origin = base_url.rstrip("/")
    pattern = re.compile(re.escape(origin) + r"(/.*)?")

    def callback(
        request: requests.PreparedRequest,
    ) -> tuple[int, dict[str, str], bytes] | Exception:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        path = urlsplit(request.url or "").path
        reply = handle(state, request.method or "GET", path, dict(request.headers), raw)
        if reply.transport_fault == "reset":
            return requests.ConnectionError("Connection reset by peer (emulated)")
        if reply.transport_fault == "timeout":
            return requests.ReadTimeout("Read timed out (emulated)")
        return reply.status, reply.all_headers(), reply.body_bytes()

    rsps.add_callback(responses.POST, pattern, callback=callback)
