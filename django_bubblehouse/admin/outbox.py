"""The outbox in the admin: what is waiting, what failed and why, and a status summary.

Rows are read-only (they are the app's bookkeeping); the two actions are
"retry now" (failed/dead rows get a fresh attempt budget and a drain) and
"discard". The payload preview is built by the serializer exactly as a drain
would build it now, so it never contains credentials: tokens are minted in the
client, at send time, and never stored.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html

from ..backfill.output import pretty
from ..models import BackfillRun, OutboxEntry, OutboxState, Pause
from ..outbox import retry_entries
from ..outbox.orphans import orphaned_serializers
from ..registry import get_serializer
from .actions import PUSH_PERMISSION

if TYPE_CHECKING:
    OutboxEntryAdminBase = admin.ModelAdmin[OutboxEntry]
    BackfillRunAdminBase = admin.ModelAdmin[BackfillRun]
else:  # ModelAdmin is only generic in the stubs
    OutboxEntryAdminBase = BackfillRunAdminBase = admin.ModelAdmin


_FIELDS: tuple[str, ...] = (
    "kind",
    "serializer",
    "object_key",
    "state",
    "attempts",
    "next_attempt_at",
    "first_failure_at",
    "last_status",
    "last_error_id",
    "readable_error",
    "payload_preview",
    "created_at",
    "updated_at",
    "sent_at",
)


@admin.register(OutboxEntry)
class OutboxEntryAdmin(OutboxEntryAdminBase):
    change_list_template = "django_bubblehouse/admin/outbox_change_list.html"
    list_display = ["object_key", "kind", "state", "attempts", "last_error_id", "updated_at"]
    list_filter = ["kind", "state", "last_error_id"]
    search_fields = ["object_key", "serializer"]
    ordering = ["-updated_at"]
    actions = ["retry_now", "discard"]
    fields = readonly_fields = _FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_push_to_bubblehouse_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PUSH_PERMISSION)

    @admin.action(description="Retry now", permissions=["push_to_bubblehouse"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxEntry]) -> None:
        retried = retry_entries(queryset)
        self.message_user(request, f"{retried} failed or dead row(s) queued again.")

    @admin.action(description="Discard (never send)", permissions=["delete"])
    def discard(self, request: HttpRequest, queryset: QuerySet[OutboxEntry]) -> None:
        discarded, _ = queryset.delete()
        self.message_user(request, f"{discarded} row(s) discarded.", messages.WARNING)

    @admin.display(description="Error")
    def readable_error(self, entry: OutboxEntry) -> str:
        if not entry.last_error:
            return "-"
        status = f"HTTP {entry.last_status} " if entry.last_status else ""
        return f"{status}{entry.last_error_id}: {entry.last_error}".strip()

    @admin.display(description="Payload (as it would be sent now)")
    def payload_preview(self, entry: OutboxEntry) -> str:
        return format_html("<pre>{}</pre>", _preview(entry))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**(extra_context or {}), "bubblehouse_status": status_summary()}
        return super().changelist_view(request, context)


def _preview(entry: OutboxEntry) -> str:
    try:
        serializer_cls = get_serializer(entry.serializer)
    except LookupError as error:
        return str(error)
    result = serializer_cls().serialize_keys([entry.object_key])
    if entry.object_key in result.errors:
        return f"cannot be serialized: {result.errors[entry.object_key]}"
    if entry.object_key in result.payloads:
        return pretty(result.payloads[entry.object_key])
    if entry.delete_payload is not None:
        return json.dumps(entry.delete_payload, indent=2, ensure_ascii=False)
    return "nothing to send (the object is gone or should_sync() is False)"


def status_summary() -> dict[str, Any]:
    counts = dict(
        OutboxEntry.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    return {
        "pending": counts.get(OutboxState.PENDING, 0) + counts.get(OutboxState.SENDING, 0),
        "failed": counts.get(OutboxState.FAILED, 0),
        "dead": counts.get(OutboxState.DEAD, 0),
        # An ended rate-limit hold is history, not a state.
        "pauses": list(
            Pause.objects.exclude(scope=Pause.THROTTLE, probe_at__lte=timezone.now()).order_by(
                "since"
            )
        ),
        "orphans": orphaned_serializers(),
        "last_sent": OutboxEntry.objects.aggregate(last=Max("sent_at"))["last"],
    }


@admin.register(BackfillRun)
class BackfillRunAdmin(BackfillRunAdminBase):
    list_display = ["pk", "status", "started_at", "finished_at", "reason"]
    list_filter = ["status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
