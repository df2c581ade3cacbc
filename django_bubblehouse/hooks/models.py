"""What the hooks remember so that a repeated delivery never runs a handler twice."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class HookReceipt(models.Model):
    """One answered hook call, by request id (``scope="request"``) or by the hook's own key.

    ``CreateDiscount4`` is keyed by its code, ``SendEvent1`` by its ``bhid``. A
    row only becomes visible to other requests once its handler has committed,
    so a row that exists always holds a final answer.
    """

    REQUEST_SCOPE = "request"

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    body_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="bubblehouse_hook_receipt_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
