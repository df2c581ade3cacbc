"""Fixtures shared by the suite's modules (helpers they use live in the ``*_support`` modules)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
import responses

from django_bubblehouse.conf import BubblehouseSettings, get_settings
from django_bubblehouse.testing.emulator import EmulatorConfig, EmulatorState
from django_bubblehouse.testing.emulator.responses_adapter import add_emulator
from tests.backfill_support import BASE_URL, Recorder, new_state
from tests.delivery_support import API, CALLS
from tests.emulator_support import DEALERS, ELIGIBLE
from tests.worker_support import FakeBubblehouse, Received


@pytest.fixture
def emulator() -> Iterator[EmulatorState]:
    """The emulator behind ``responses``; every POST to the test host reaches it."""
    state = new_state()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        add_emulator(rsps, state, BASE_URL)
        yield state
    assert state.processing_errors == []


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Records every push to the test host, answering as its script says."""
    rec = Recorder()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for call in CALLS:
            rsps.add_callback(responses.POST, f"{BASE_URL}/api/v2023061/testshop/{call}", rec)
        yield rec


@pytest.fixture
def conf() -> BubblehouseSettings:
    return get_settings()


@pytest.fixture
def state(conf: BubblehouseSettings) -> EmulatorState:
    """An emulator state for the handler tests: two primary sets and one secondary."""
    return EmulatorState(
        EmulatorConfig(
            shop=conf.shop,
            keys=conf.keys,
            entity_sets={DEALERS: None, ELIGIBLE: DEALERS, "other-primary": None},
            obsolete_versions=frozenset({"v2022011"}),
            inaccessible_versions=frozenset({"v2024011"}),
        )
    )


@pytest.fixture
def fake_api() -> Iterator[tuple[str, Received]]:
    """A fake Bubblehouse on loopback: its base URL, and every (path, body) it received."""
    received: Received = []
    handler = type("Handler", (FakeBubblehouse,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """The Order API of the test settings: every call answers ``{"ok": true}`` until a test
    replaces one."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for call in CALLS:
            rsps.post(API + call, json={"ok": True})
        yield rsps


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Bare ``responses``: a test registers what it expects, and all of it must be called."""
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def no_http() -> Iterator[responses.RequestsMock]:
    """Any HTTP request fails the test (admin views only ever write the outbox)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
    assert len(rsps.calls) == 0


@pytest.fixture
def admin_tasks() -> Iterator[mock.MagicMock]:
    """The django-q2 tasks the admin actions enqueue, not run."""
    from django_bubblehouse.admin import actions

    with mock.patch.object(actions, "async_task") as task:
        yield task


@pytest.fixture
def hooks_enabled() -> Iterator[None]:
    """The test app's recording hook handlers, enabled."""
    from tests.hooks_support import recording_hooks

    with recording_hooks():
        yield


@pytest.fixture
def pull_order() -> Any:
    """An order for the pull-URL tests, whose number shows whether a response leaked it."""
    from tests.pull_support import make_order

    return make_order("SECRET-ORDER-1")


@pytest.fixture
def framework_shop() -> Iterator[None]:
    """The framework-shaped shop's serializers registered instead of the test shop's."""
    from tests.framework_support import framework_settings

    with framework_settings():
        yield
