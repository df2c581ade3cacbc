"""Admin integration: actions for the host's ModelAdmins, and the outbox's own admin.

Importing this package (the admin's autodiscovery does) registers the outbox
admin; hosts add :class:`BubblehouseAdminMixin` to their own ModelAdmins, or call
:func:`add_bubblehouse_actions` for admins registered by someone else (a framework).
"""

from . import outbox as _outbox  # noqa: F401  (registers the outbox admin)
from . import runs as _runs  # noqa: F401  (registers the backfill and replace runs admin)
from .actions import BubblehouseAdminMixin, add_bubblehouse_actions

__all__ = ["BubblehouseAdminMixin", "add_bubblehouse_actions"]
