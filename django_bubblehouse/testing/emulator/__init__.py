"""A faithful local emulator of the Bubblehouse Order API (see README "Testing your own shop")."""

from .api import Reply, handle
from .entities import Entity, EntitySet
from .faults import FaultConfig
from .rules import DOCUMENTED_VERSIONS
from .server import EmulatorServer
from .state import (
    DEFAULT_VERSION,
    EmulatorConfig,
    EmulatorState,
    Key,
    ProcessingError,
    RecordedRequest,
)

__all__ = [
    "DEFAULT_VERSION",
    "DOCUMENTED_VERSIONS",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorState",
    "Entity",
    "EntitySet",
    "FaultConfig",
    "Key",
    "ProcessingError",
    "RecordedRequest",
    "Reply",
    "handle",
]
