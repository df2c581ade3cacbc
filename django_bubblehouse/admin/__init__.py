"""Admin integration: actions for the host's ModelAdmins, and the outbox's own admin.

Importing this package (the admin's autodiscovery does) registers the outbox
admin; hosts only add :class:`BubblehouseAdminMixin` to their own ModelAdmins.
"""

from . import outbox as _outbox  # noqa: F401  (registers the outbox admin)
from . import runs as _runs  # noqa: F401  (registers the backfill and replace runs admin)
from .actions import BubblehouseAdminMixin

__all__ = ["BubblehouseAdminMixin"]
