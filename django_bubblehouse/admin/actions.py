"""Admin actions for the host's own models: push selected objects, replace an entity set.

Neither action talks HTTP inside the request: a push writes outbox rows (the
drain sends them after commit), a replace enqueues a django-q2 task that sends
the one replace request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import AdminSite, helpers
from django.contrib.admin.exceptions import NotRegistered
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django_q.tasks import async_task

from ..backfill.replace import (
    ReplaceBody,
    ReplacePlan,
    close_replace_run,
    last_replace,
    plan_replace,
    start_replace_run,
)
from ..backfill.selection import SelectionError
from ..conf import get_settings
from ..kinds import Kind
from ..models import BackfillRun, Pause
from ..outbox import mark_dirty
from ..serializers import Serializer
from ..serializers.registry import serializers_for_model

PUSH_PERMISSION = "django_bubblehouse.push_to_bubblehouse"
REPLACE_PERMISSION = "django_bubblehouse.replace_entity_set"
REPLACE_TASK = "django_bubblehouse.backfill.replace.replace_task"
PUSH_ACTION = "push_to_bubblehouse"
REPLACE_ACTION = "replace_entity_set_in_bubblehouse"
# Keys are read and written in chunks so "select all" on a large table stays flat in memory.
CHUNK = 1000


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:  # a mixin: the host's ModelAdmin comes after it
    _ModelAdmin = object


class BubblehouseAdminMixin(_ModelAdmin):
    """Mix into a host ``ModelAdmin`` (before ``admin.ModelAdmin``) to get the actions.

    "Push selected to Bubblehouse" appears for models with a registered
    serializer, "Replace entity set in Bubblehouse" for models feeding an
    entity set; each only for users with the matching permission.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An instance attribute: the host's own ``actions`` list is kept, ours appended.
        self.actions = [*(self.actions or ()), PUSH_ACTION, REPLACE_ACTION]

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 passes action_location (and deprecates overrides without it); older
        # versions do not know the argument.
        location = {} if action_location is None else {"action_location": action_location}
        actions: dict[str, Any] = super().get_actions(request, **location)
        serializers = serializers_for_model(self.model)
        if not serializers:
            actions.pop(PUSH_ACTION, None)
        if not any(cls.kind is Kind.ENTITIES for cls in serializers):
            actions.pop(REPLACE_ACTION, None)
        return actions

    def has_push_to_bubblehouse_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PUSH_PERMISSION)

    def has_replace_entity_set_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPLACE_PERMISSION)

    @admin.action(description="Push selected to Bubblehouse", permissions=["push_to_bubblehouse"])
    def push_to_bubblehouse(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        serializers = serializers_for_model(self.model)
        selected = 0
        with transaction.atomic():
            keys = queryset.order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK)
            chunk: list[str] = []
            for key in keys:
                chunk.append(str(key))
                if len(chunk) == CHUNK:
                    selected += _mark(serializers, chunk)
            selected += _mark(serializers, chunk)
        self.message_user(
            request,
            f"{selected} object(s) queued for Bubblehouse; they are pushed within seconds.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Replace entity set in Bubblehouse", permissions=["replace_entity_set"]
    )
    def replace_entity_set_in_bubblehouse(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> TemplateResponse | None:
        names = [
            cls.entity_set
            for cls in serializers_for_model(self.model)
            if cls.kind is Kind.ENTITIES and cls.entity_set
        ]
        chosen = request.POST.get("entity_set")
        if request.POST.get("confirm") == "yes" and chosen in names:
            self.enqueue_replace(request, chosen)
            return None
        plans: list[ReplacePlan] = []
        problems: list[str] = []
        for name in names:
            try:
                plans.append(plan_replace(Kind.ENTITIES, name))
            except SelectionError as error:
                problems.append(str(error))
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": "Replace an entity set in Bubblehouse",
            "opts": opts,
            "plans": plans,
            "problems": problems,
            "warnings": [warning for plan in plans for warning in replace_warnings(plan)],
            "queryset": queryset,
            "action_name": REPLACE_ACTION,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "django_bubblehouse/admin/replace_entity_set.html", context
        )

    def enqueue_replace(self, request: HttpRequest, entity_set: str) -> None:
        """A run the operator can open, then the task that sends the replace and closes it."""
        try:
            run = start_replace_run(plan_replace(Kind.ENTITIES, entity_set))
        except SelectionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        try:
            async_task(
                REPLACE_TASK,
                str(Kind.ENTITIES),
                entity_set,
                run.pk,
                group="bubblehouse-replace",
                cluster=get_settings().q_cluster_name,
            )
        except Exception as error:
            close_replace_run(run.pk, ReplaceBody(), error)
            raise
        url = reverse("admin:django_bubblehouse_backfillrun_change", args=[run.pk])
        self.message_user(
            request,
            format_html(
                "Replace of entity set {} enqueued; it is sent as one request. Follow it in "
                '<a href="{}">replace run #{}</a> (Bubblehouse &rsaquo; Backfill runs).',
                repr(entity_set),
                url,
                run.pk,
            ),
            messages.SUCCESS,
        )


def replace_warnings(plan: ReplacePlan) -> list[str]:
    """What the confirmation page says before a replace that is likely to fail."""
    warnings = []
    scopes = [Pause.ALL, f"entity_set:{plan.entity_set}"]
    for pause in Pause.objects.filter(scope__in=scopes).order_by("since"):
        warnings.append(
            f"Pushes to {plan.target!r} are paused since {pause.since:%Y-%m-%d %H:%M} UTC: "
            f"{pause.reason}. The replace will probably fail the same way; fix the cause first."
        )
    previous = last_replace(plan.target)
    if previous is not None and previous.status == BackfillRun.Status.FAILED:
        warnings.append(
            f"The last replace of {plan.target!r} (run #{previous.pk}, "
            f"{previous.started_at:%Y-%m-%d %H:%M} UTC) failed: {previous.reason}"
        )
    return warnings


def add_bubblehouse_actions(*models: type[Model], site: AdminSite | None = None) -> None:
    """Give the ``ModelAdmin`` already registered for each model (a framework's) the actions.

    One line in the shop's ``admin.py``, after the framework's admin modules are imported
    (list the shop's app after the framework's in ``INSTALLED_APPS``). The registered
    class is kept as the base of the new one, so everything it does stays as it was.
    """
    site = site or admin.site
    for model in models:
        try:
            registered = site.get_model_admin(model)
        except NotRegistered:
            raise ImproperlyConfigured(
                f"add_bubblehouse_actions({model._meta.label}): the model is not registered "
                f"with {site.name!r} yet; call it after the admin that registers it is "
                "imported (put your app after that one in INSTALLED_APPS)"
            ) from None
        if isinstance(registered, BubblehouseAdminMixin):
            continue
        base = type(registered)
        mixed = type(base.__name__, (BubblehouseAdminMixin, base), {"__module__": base.__module__})
        site.unregister(model)
        site.register(model, mixed)


def _mark(serializers: list[type[Serializer]], chunk: list[str]) -> int:
    for serializer_cls in serializers:
        mark_dirty(serializer_cls, chunk)
    count = len(chunk)
    chunk.clear()
    return count
