"""pytest fixtures for projects using django-bubblehouse (registered as a pytest11 plugin).

``bubblehouse_emulator`` serves a real loopback emulator for the test, points
``settings.BUBBLEHOUSE`` at it, enables database access and yields its
:class:`EmulatorState`. Like the real API, the emulator answers 200 to a
well-formed request and only records its invalid objects as processing errors;
the fixture then fails the test at teardown, so a serializer bug cannot pass
unnoticed. Opt out per test with ``@pytest.mark.bubblehouse_allow_processing_errors``
(or by overriding the ``bubblehouse_strict`` fixture). ``bubblehouse_drain``
pushes what the outbox holds, there and then, whatever the project's django-q2
settings (no worker, no sync mode, no commit needed). Django is only touched
inside the fixtures, so merely having the plugin installed never requires
configured settings.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .emulator import DOCUMENTED_VERSIONS, EmulatorConfig, EmulatorServer, EmulatorState
from .entity_sets import EntitySets, entity_sets_from_serializers, parse_entity_sets

if TYPE_CHECKING:
    from ..outbox import DrainReport

ENTITY_SETS_SETTING = "BUBBLEHOUSE_EMULATOR_ENTITY_SETS"
__all__ = ["EntitySets", "entity_sets_from_serializers", "parse_entity_sets"]

ALLOW_ERRORS_MARKER = "bubblehouse_allow_processing_errors"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_ERRORS_MARKER}: the bubblehouse_emulator fixture does not fail the test "
        "when the emulator recorded processing errors",
    )


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
    db: None,
) -> Iterator[EmulatorState]:
    """A fresh emulator state, with ``settings.BUBBLEHOUSE`` pointing at the server.

    Requests pytest-django's ``db``: a test that pushes has objects to create.
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


@pytest.fixture
def bubblehouse_drain(bubblehouse_emulator: EmulatorState) -> Callable[[], DrainReport]:
    """``bubblehouse_drain()`` pushes every pending change to the emulator and reports.

    It runs the drain in the test's own transaction, so the outbox rows the test's
    saves wrote are visible without a commit, and no django-q2 worker is involved.
    """
    from ..outbox import drain

    return drain
