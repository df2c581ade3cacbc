"""``override_settings`` for the ``BUBBLEHOUSE`` dict: the test settings with a few changes.

Tests change one or two keys; starting from ``tests/settings.py`` keeps the
shop, credentials and host in one place instead of a copy in every test file.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import override_settings


def bubblehouse_settings(**changes: Any) -> override_settings:
    """The current ``BUBBLEHOUSE`` with ``changes`` (keys as in the setting: ``BATCH_SIZE=2``)."""
    return override_settings(BUBBLEHOUSE={**settings.BUBBLEHOUSE, **changes})


def with_serializers(*paths: str) -> override_settings:
    """The current ``BUBBLEHOUSE`` with only these serializers registered."""
    return bubblehouse_settings(SERIALIZERS=list(paths))
