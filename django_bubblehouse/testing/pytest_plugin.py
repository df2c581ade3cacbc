"""pytest fixtures for projects using django-bubblehouse (registered as a pytest11 plugin).

``bubblehouse_emulator`` serves a real loopback emulator for the test, points
``settings.BUBBLEHOUSE`` at it and yields its :class:`EmulatorState`. Django is
only touched inside the fixtures, so merely having the plugin installed never
requires configured settings.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest

from .emulator import EmulatorConfig, EmulatorServer, EmulatorState

EntitySets = dict[str, str | None]
ENTITY_SETS_SETTING = "BUBBLEHOUSE_EMULATOR_ENTITY_SETS"


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
def bubblehouse_emulator(
    bubblehouse_emulator_server: EmulatorServer, bubblehouse_entity_sets: EntitySets
) -> Iterator[EmulatorState]:
    """A fresh emulator state, with ``settings.BUBBLEHOUSE`` pointing at the server."""
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
                entity_sets=dict(bubblehouse_entity_sets),
                allow_order_delete=conf.allow_order_delete,
            )
        )
        yield state
