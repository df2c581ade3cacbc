"""The outbox: which objects still have to reach Bubblehouse, and why they have not yet.

A row is a reference ("order 42 is dirty"), not a payload; the payload is built
from the committed state when the row is sent. Only a delete stores its payload,
captured while the object still existed.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from .hooks.models import HookReceipt  # noqa: F401  (Django finds app models here)
from .kinds import Kind


class OutboxState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for a drain (maybe until next_attempt_at)
    SENDING = "sending", "Sending"  # claimed by a drain; lease_until bounds the claim
    SENT = "sent", "Sent"  # accepted by Bubblehouse; pruned after RETENTION
    SKIPPED = "skipped", "Skipped"  # object gone or should_sync() False: nothing to send
    FAILED = "failed", "Failed"  # rejected (4xx) or not serializable; never retried by itself
    DEAD = "dead", "Dead"  # transient failures exhausted MAX_ATTEMPTS or MAX_AGE


TERMINAL_STATES = (OutboxState.FAILED, OutboxState.DEAD)


class OutboxEntry(models.Model):
    kind = models.CharField(max_length=20, choices=[(kind.value, kind.value) for kind in Kind])
    serializer = models.CharField(max_length=255, help_text="Dotted path of the serializer.")
    object_key = models.CharField(max_length=255)
    state = models.CharField(max_length=10, choices=OutboxState, default=OutboxState.PENDING)
    # A fresh random token on every change and every claim: a drain marks a row sent only if
    # the token is still the one it claimed, so a change made during the push is pushed again.
    generation = models.BigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error_id = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    delete_payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # What a later delete needs that the object may no longer hold then (an order's
    # customer), as of the last successful push; see Serializer.pushed_identity().
    pushed_identity = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outbox entry"
        verbose_name_plural = "outbox entries"
        constraints = [
            models.UniqueConstraint(
                fields=["serializer", "object_key"], name="bubblehouse_outbox_unique_object"
            )
        ]
        indexes = [
            models.Index(
                fields=["serializer", "state", "next_attempt_at"], name="bubblehouse_outbox_due"
            ),
            # Not (state, updated_at): every change rewrites updated_at, and an indexed column
            # that changes rules out PostgreSQL's in-page (HOT) update of the row. A row's
            # sent_at is written only when it is sent, which is when prune and health read it.
            models.Index(fields=["state", "sent_at"], name="bubblehouse_outbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_key} ({self.state})"


class Pause(models.Model):
    """An open circuit: pushes in ``scope`` wait until a probe succeeds.

    The scope ``"throttle"`` is the shop-wide hold after a 429 instead: no request
    leaves until ``probe_at`` (see :mod:`django_bubblehouse.throttle`).
    """

    ALL = "*"
    THROTTLE = "throttle"

    scope = models.CharField(max_length=150, unique=True, help_text='"*" or "entity_set:<name>".')
    reason = models.TextField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_id = models.CharField(max_length=100, blank=True)
    since = models.DateTimeField(default=timezone.now)
    probe_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"paused {self.scope}: {self.reason}"


class DrainRequest(models.Model):
    """A single row: "a drain is enqueued and has not started yet" (or, set by a drain that
    found every drain slot held, "the running drains owe one more round").

    It lets a burst of commits enqueue one drain instead of one each; see
    :mod:`django_bubblehouse.outbox.wakeup`.
    """

    SINGLETON = 1

    requested = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True)
    # When a drain (or the sweep's drain) last started: "is a worker alive" for the status.
    last_drain_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "drain requested" if self.requested else "idle"


class DrainSlot(models.Model):
    """One of the ``DRAIN_PARALLELISM`` places a running drain holds: no more drains run at once.

    Held under a lease that its drain's heartbeat renews, so the place of a killed
    drain frees itself; see :mod:`django_bubblehouse.outbox.slots`.
    """

    number = models.PositiveSmallIntegerField(primary_key=True)
    holder = models.BigIntegerField(null=True, blank=True)  # the holding drain's random token
    lease_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"drain slot {self.number}"


class BackfillRun(models.Model):
    """One ``bubblehouse_backfill`` invocation; its ranges hold the resume cursors.

    Also carries the app's admin permissions, which belong to no outbox model.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        STOPPED = "stopped", "stopped (resumable)"
        FAILED = "failed", "finished with failures"
        DONE = "done", "done"

    fingerprint = models.CharField(max_length=64, db_index=True)
    selection = models.JSONField(default=dict)
    batch_size = models.PositiveIntegerField()
    is_async = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    reason = models.TextField(blank=True)
    # The process running it, so that --resume can refuse a run that is still alive.
    pid = models.PositiveIntegerField(null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        get_latest_by = "started_at"
        permissions = [
            ("push_to_bubblehouse", "Can push objects to Bubblehouse"),
            ("replace_entity_set", "Can replace a whole entity set in Bubblehouse"),
            ("view_payload", "Can see the payloads sent to Bubblehouse (personal data)"),
        ]

    def __str__(self) -> str:
        return f"backfill #{self.pk} ({self.status})"


class BackfillRange(models.Model):
    """The keys of one serializer after ``start_after`` up to ``end_at`` (NULL: unbounded).

    ``cursor`` is the last key done; it is saved after every batch, in the same
    transaction that records the batch's failures in the outbox.
    """

    run = models.ForeignKey(BackfillRun, on_delete=models.CASCADE, related_name="ranges")
    serializer = models.CharField(max_length=255)
    # NULL, not "", means "no bound": an empty string is a valid string primary key.
    start_after = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    end_at = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    cursor = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    done = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.serializer} after {self.start_after or 'start'}"

    @property
    def resume_after(self) -> str | None:
        return self.cursor if self.cursor is not None else self.start_after


class ReconcileMark(models.Model):
    """How far the reconciliation has looked at one serializer's ``updated_field``."""

    serializer = models.CharField(max_length=255, unique=True)
    reconciled_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.serializer} reconciled until {self.reconciled_until.isoformat()}"
