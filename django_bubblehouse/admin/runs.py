"""Backfill and admin replace runs: what ran, how far it got, and why it stopped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

from ..models import BackfillRange, BackfillRun

if TYPE_CHECKING:
    BackfillRunAdminBase = admin.ModelAdmin[BackfillRun]
    BackfillRangeInlineBase = admin.TabularInline[BackfillRange, BackfillRun]
else:  # ModelAdmin is only generic in the stubs
    BackfillRunAdminBase = admin.ModelAdmin
    BackfillRangeInlineBase = admin.TabularInline


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BackfillRangeInline(ReadOnly, BackfillRangeInlineBase):
    model = BackfillRange
    fields = readonly_fields = ("serializer", "total", "sent", "failed", "skipped", "done", "error")
    extra = 0
    can_delete = False


@admin.register(BackfillRun)
class BackfillRunAdmin(ReadOnly, BackfillRunAdminBase):
    list_display = ["pk", "what", "status", "sent", "failed", "skipped", "started_at", "reason"]
    list_filter = ["status"]
    fields = readonly_fields = (
        "what",
        "status",
        "reason",
        "sent",
        "failed",
        "skipped",
        "batch_size",
        "is_async",
        "started_at",
        "finished_at",
    )
    inlines = [BackfillRangeInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BackfillRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent_rows=Sum("ranges__sent"),
                failed_rows=Sum("ranges__failed"),
                skipped_rows=Sum("ranges__skipped"),
            )
        )

    @admin.display(description="Run")
    def what(self, run: BackfillRun) -> str:
        selection = run.selection or {}
        if selection.get("replace"):
            return f"replace {selection['replace']}"
        kinds = ", ".join(selection.get("kinds") or ()) or "everything"
        return f"backfill {kinds}"

    @admin.display(description="Sent", ordering="sent_rows")
    def sent(self, run: BackfillRun) -> int:
        return getattr(run, "sent_rows", None) or 0

    @admin.display(description="Failed", ordering="failed_rows")
    def failed(self, run: BackfillRun) -> int:
        return getattr(run, "failed_rows", None) or 0

    @admin.display(description="Skipped", ordering="skipped_rows")
    def skipped(self, run: BackfillRun) -> int:
        return getattr(run, "skipped_rows", None) or 0
