"""The outbox in the admin: what waits, what failed and why, and the buttons to fix it.

Rows are read-only (they are the app's bookkeeping). The list names each row's
object by its Bubblehouse id with a link to the host's admin page, shows the
state as a badge and the error; the status box above it is the health report
(:mod:`django_bubblehouse.health`) with a "Resume" button per pause. A row's
page has "Retry now" and "Discard", which asks for confirmation like Django's
delete. The payload preview holds personal data (emails, names), so it needs
its own permission; it never holds credentials: tokens are minted in the
client, at send time, and never stored.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from ..backfill.output import pretty
from ..health import collect
from ..health.report import describe_scope
from ..models import TERMINAL_STATES, OutboxEntry, OutboxState
from ..outbox import resume, retry_entries
from ..serializers.registry import get_serializer
from .actions import PUSH_PERMISSION
from .references import Reference, matching_entries, references

if TYPE_CHECKING:
    OutboxEntryAdminBase = admin.ModelAdmin[OutboxEntry]
else:  # ModelAdmin is only generic in the stubs
    OutboxEntryAdminBase = admin.ModelAdmin

PAYLOAD_PERMISSION = "django_bubblehouse.view_payload"
REFERENCE = "bubblehouse_reference"  # set on each row of a page by OutboxChangeList
ERROR_IN_LIST = 80  # characters of the error shown in the list; the row's page has it all
BADGE_COLOURS = {
    OutboxState.PENDING: "#417690",
    OutboxState.SENDING: "#2f6fb0",
    OutboxState.SENT: "#2e7d32",
    OutboxState.SKIPPED: "#6b6b6b",
    OutboxState.FAILED: "#c62828",
    OutboxState.DEAD: "#6a1b1b",
}

_FIELDS: tuple[str, ...] = (
    "bubblehouse_object",
    "host_admin_link",
    "kind",
    "serializer",
    "object_key",
    "state_badge",
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


class OutboxChangeList(ChangeList):
    """Loads the page's objects once per serializer for the Bubblehouse id column."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        found = references(self.result_list, self.model_admin.admin_site)
        for entry in self.result_list:
            setattr(entry, REFERENCE, found.get(entry.pk))


@admin.register(OutboxEntry)
class OutboxEntryAdmin(OutboxEntryAdminBase):
    change_list_template = "django_bubblehouse/admin/outbox_change_list.html"
    change_form_template = "django_bubblehouse/admin/outbox_change_form.html"
    delete_confirmation_template = "django_bubblehouse/admin/outbox_discard_confirmation.html"
    delete_selected_confirmation_template = (
        "django_bubblehouse/admin/outbox_discard_selected_confirmation.html"
    )
    list_display = [
        "bubblehouse_object",
        "host_admin_link",
        "kind",
        "state_badge",
        "attempts",
        "short_error",
        "updated_at",
    ]
    list_display_links = ["bubblehouse_object"]
    list_filter = ["kind", "state", "last_error_id"]
    search_fields = ["object_key", "serializer"]
    search_help_text = "Bubblehouse id (order number, customer id...), key or serializer."
    date_hierarchy = "updated_at"
    ordering = ["-updated_at"]
    actions = ["retry_now", "discard"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_push_to_bubblehouse_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PUSH_PERMISSION)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The preview shows what leaves the shop: customers' emails and names.
        if request.user.has_perm(PAYLOAD_PERMISSION):
            return _FIELDS
        return tuple(name for name in _FIELDS if name != "payload_preview")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OutboxChangeList

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        location = {} if action_location is None else {"action_location": action_location}
        actions: dict[str, Any] = super().get_actions(request, **location)
        actions.pop("delete_selected", None)  # "discard" is the same, in the operator's words
        return actions

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutboxEntry], search_term: str
    ) -> tuple[QuerySet[OutboxEntry], bool]:
        found, may_duplicate = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            found |= queryset.filter(matching_entries(term))
        return found, may_duplicate

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/retry/",
                wrap(require_POST(self.retry_view)),
                name=f"{info[0]}_{info[1]}_retry",
            ),
            path(
                "resume-pause/",
                wrap(require_POST(self.resume_pause_view)),
                name=f"{info[0]}_{info[1]}_resume_pause",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Retry now", permissions=["push_to_bubblehouse"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxEntry]) -> None:
        retried = retry_entries(queryset)
        self.message_user(request, f"{retried} failed or dead row(s) queued again.")

    @admin.action(description="Discard (never send)", permissions=["delete"])
    def discard(
        self, request: HttpRequest, queryset: QuerySet[OutboxEntry]
    ) -> TemplateResponse | None:
        # Django's own "delete selected": a confirmation page first, then the delete.
        return delete_selected(self, request, queryset)

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_push_to_bubblehouse_permission(request):
            raise PermissionDenied
        entry = get_object_or_404(OutboxEntry, pk=object_id)
        if retry_entries([entry.pk]):
            self.message_user(request, "Queued again with a fresh attempt budget.")
        else:
            self.message_user(
                request, f"Nothing to retry: the row is {entry.state}.", messages.WARNING
            )
        return HttpResponseRedirect(
            reverse(
                f"{self.admin_site.name}:django_bubblehouse_outboxentry_change", args=[entry.pk]
            )
        )

    def resume_pause_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_push_to_bubblehouse_permission(request):
            raise PermissionDenied
        scope = request.POST.get("scope", "")
        if resume(scope):
            self.message_user(
                request, f"Resumed {describe_scope(scope)}; a drain sends what waited."
            )
        else:
            self.message_user(request, "That pause was already over.", messages.WARNING)
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:django_bubblehouse_outboxentry_changelist")
        )

    @admin.display(description="Bubblehouse id")
    def bubblehouse_object(self, entry: OutboxEntry) -> str:
        reference = self._reference(entry)
        if reference is None:
            return format_html('<span title="object gone">{}</span>', entry.object_key)
        return reference.bubblehouse_id

    @admin.display(description="In your admin")
    def host_admin_link(self, entry: OutboxEntry) -> str:
        reference = self._reference(entry)
        if reference is None or not reference.admin_url:
            return "-"
        return format_html(
            '<a href="{}" class="bubblehouse-host-link">open {} &#8599;</a>',
            reference.admin_url,
            reference.bubblehouse_id,
        )

    def _reference(self, entry: OutboxEntry) -> Reference | None:
        if not hasattr(entry, REFERENCE):  # a row's own page, not the list
            setattr(entry, REFERENCE, references([entry], self.admin_site).get(entry.pk))
        reference: Reference | None = getattr(entry, REFERENCE)
        return reference

    @admin.display(description="State", ordering="state")
    def state_badge(self, entry: OutboxEntry) -> str:
        return format_html(
            '<span class="bubblehouse-state bubblehouse-state-{}" style="background:{};'
            'color:#fff;border-radius:8px;padding:1px 8px;font-weight:600">{}</span>',
            entry.state,
            BADGE_COLOURS.get(OutboxState(entry.state), "#6b6b6b"),
            entry.get_state_display(),
        )

    @admin.display(description="Error")
    def short_error(self, entry: OutboxEntry) -> str:
        text = error_text(entry)
        # The row already names its object: a serialization error's "<serializer> on <model>
        # pk=<pk>" (or "id=<id> (pk=<pk>)") lead would fill the truncated text and hide the
        # reason.
        lead = re.compile(
            rf"{re.escape(entry.serializer)} on \S+ (?:id=.*? \(pk=\S+?\)|pk=\S+?)(, |: )"
        )
        short = lead.sub("", text, count=1)
        return format_html(
            '<span title="{}">{}</span>', text, Truncator(short).chars(ERROR_IN_LIST)
        )

    @admin.display(description="Error")
    def readable_error(self, entry: OutboxEntry) -> str:
        return error_text(entry)

    @admin.display(description="Payload (as it would be sent now)")
    def payload_preview(self, entry: OutboxEntry) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', _preview(entry))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            **(extra_context or {}),
            "bubblehouse_health": collect(clusters=False),
            "can_resume": self.has_push_to_bubblehouse_permission(request),
        }
        return super().changelist_view(request, context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {"title": "Discard this change?", **(extra_context or {})}
        return super().delete_view(request, object_id, context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        entry = self.get_object(request, object_id)
        context = {
            **(extra_context or {}),
            "show_delete": False,  # the object tools offer "Discard", which is the delete
            "can_retry": entry is not None
            and entry.state in TERMINAL_STATES
            and self.has_push_to_bubblehouse_permission(request),
            "can_discard": entry is not None and self.has_delete_permission(request, entry),
        }
        return super().change_view(request, object_id, form_url, context)


def error_text(entry: OutboxEntry) -> str:
    if not entry.last_error:
        return "-"
    status = f"HTTP {entry.last_status} " if entry.last_status else ""
    return f"{status}{entry.last_error_id}: {entry.last_error}".strip()


def _preview(entry: OutboxEntry) -> str:
    try:
        serializer_cls = get_serializer(entry.serializer)
    except LookupError as error:
        return str(error)
    try:
        result = serializer_cls().serialize_keys([entry.object_key])
    except (ValueError, TypeError, ValidationError) as error:  # not a key of this model
        return f"cannot be loaded: {error}"
    if entry.object_key in result.errors:
        return f"cannot be serialized: {result.errors[entry.object_key]}"
    if entry.object_key in result.payloads:
        return pretty(result.payloads[entry.object_key])
    if entry.delete_payload is not None:
        return json.dumps(entry.delete_payload, indent=2, ensure_ascii=False)
    return "nothing to send (the object is gone or should_sync() is False)"
