"""pytest fixtures for projects using django-bubblehouse (registered as a pytest11 plugin).

``bubblehouse_emulator`` serves a real loopback emulator for the test, points
``settings.BUBBLEHOUSE`` at it and yields its :class:`EmulatorState`. Like the
real API, the emulator answers 200 to a well-formed request and only records
its invalid objects as processing errors; the fixture then fails the test at
teardown, so a serializer bug cannot pass unnoticed. Opt out per test with
``@pytest.mark.bubblehouse_allow_processing_errors`` (or by overriding the
``bubblehouse_strict`` fixture). Django is only touched inside the fixtures, so
merely having the plugin installed never requires configured settings.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest

from .emulator import DOCUMENTED_VERSIONS, EmulatorConfig, EmulatorServer, EmulatorState

EntitySets = dict[str, str | None]
ENTITY_SETS_SETTING = "BUBBLEHOUSE_EMULATOR_ENTITY_SETS"
ALLOW_ERRORS_MARKER = "bubblehouse_allow_processing_errors"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_ERRORS_MARKER}: the bubblehouse_emulator fixture does not fail the test "
        "when the emulator recorded processing errors",
    )


def parse_entity_sets(value: Mapping[str, str | None] | Iterable[str]) -> EntitySets:
    """``{"name": parent-or-None}`` from a dict, or from ``"name[:parent]"`` strings."""
    if isinstance(value, Mapping):
        return {str(name): parent or None for name, parent in value.items()}
    pairs = (item.partition(":") for item in value)
    return {name: parent or None for name, _, parent in pairs}


def entity_sets_from_serializers() -> EntitySets:
    """The sets the registered entity serializers push to (parents count as primary sets)."""
    from ..registry import all_serializers

    sets: EntitySets = {}
    for serializer in all_serializers():
        name = getattr(serializer, "entity_set", None)
        if name:
            parent = getattr(serializer, "parent_set", None)
            sets[name] = parent
            if parent:
                sets.setdefault(parent, None)
    return sets


@pytest.fixture(scope="session")
def bubblehouse_emulator_server() -> Iterator[EmulatorServer]:
    """One loopback server for the session; ``bubblehouse_emulator`` resets it per test."""
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def bubblehouse_entity_sets() -> EntitySets:
    """The entity sets the emulator knows. Override this fixture to choose others.

    Default: the ``BUBBLEHOUSE_EMULATOR_ENTITY_SETS`` setting (a dict, or a list of
    ``"name[:parent]"``), else the sets of the registered entity serializers.
    """
    from django.conf import settings

    configured = getattr(settings, ENTITY_SETS_SETTING, None)
    if configured is not None:
        return parse_entity_sets(configured)
    return entity_sets_from_serializers()


@pytest.fixture
def bubblehouse_strict(request: pytest.FixtureRequest) -> bool:
    """Whether processing errors fail the test; False under the allow marker. Overridable."""
    return request.node.get_closest_marker(ALLOW_ERRORS_MARKER) is None


@pytest.fixture
def bubblehouse_emulator(
    bubblehouse_emulator_server: EmulatorServer,
    bubblehouse_entity_sets: EntitySets,
    bubblehouse_strict: bool,
) -> Iterator[EmulatorState]:
    """A fresh emulator state, with ``settings.BUBBLEHOUSE`` pointing at the server.

    The emulator accepts the documented API versions and the host's ``API_VERSION``.
    """
    from django.test import override_settings

    from ..conf import get_settings, raw_settings

    overrides: dict[str, Any] = {
        **raw_settings(),
        "API_HOST": bubblehouse_emulator_server.url,
        "SHOP": raw_settings().get("SHOP") or "testshop",
    }
    if not overrides.get("SHARED_SECRET") and not overrides.get("KEYS"):
        # No credentials configured: any throwaway key works against the emulator.
        overrides["KID"] = "emulator-kid"
        overrides["SHARED_SECRET"] = base64.b64encode(secrets.token_bytes(32)).decode()
    with override_settings(BUBBLEHOUSE=overrides):
        conf = get_settings()
        state = bubblehouse_emulator_server.state
        state.reset(
            EmulatorConfig(
                shop=conf.shop,
                keys=conf.keys,
                api_versions=frozenset({*DOCUMENTED_VERSIONS, conf.api_version}),
                entity_sets=dict(bubblehouse_entity_sets),
                allow_order_delete=conf.allow_order_delete,
            )
        )
        yield state
    if bubblehouse_strict and state.processing_errors:
        listed = "\n  ".join(str(error) for error in state.processing_errors)
        pytest.fail(
            f"Bubblehouse would report {len(state.processing_errors)} processing error(s) "
            f"(objects answered 200 but not applied):\n  {listed}\n"
            f"Fix the payloads, or mark the test with @pytest.mark.{ALLOW_ERRORS_MARKER}.",
            pytrace=False,
        )
