"""System checks (ids ``bubblehouse.E0xx`` / ``bubblehouse.W0xx``).

Importing a module registers its checks; ``apps.ready`` imports this package.
Ids E001-E019 and W001-W019 belong to :mod:`.settings`; other modules start at 020
and register with the same :data:`TAG` (``manage.py check --tag bubblehouse``).
"""

from . import delivery, feeds, inbound, serializers  # noqa: F401
from .settings import TAG

__all__ = ["TAG"]
