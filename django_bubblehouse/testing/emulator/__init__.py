"""A faithful local emulator of the Bubblehouse Order API (see README "Testing your own shop")."""

from .api import Reply, handle
from .entities import Entity, EntitySet
from .faults import FaultConfig
from .server import EmulatorServer
from .state import DEFAULT_VERSION, EmulatorConfig, EmulatorState, RecordedRequest

__all__ = [
    "DEFAULT_VERSION",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorState",
    "Entity",
    "EntitySet",
    "FaultConfig",
    "RecordedRequest",
    "Reply",
    "handle",
]
