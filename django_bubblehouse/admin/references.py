"""What an outbox row points at, in the operator's words: the Bubblehouse id and an admin link.

A changelist page loads its objects with one query per serializer, never one
per row; an object that is gone is named by its captured delete payload.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.admin import AdminSite
from django.contrib.admin.utils import quote
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model, Q
from django.urls import NoReverseMatch, reverse

from ..models import OutboxEntry
from ..serializers.registry import all_serializers, get_serializer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reference:
    bubblehouse_id: str
    admin_url: str | None = None  # the host's admin page for the object, when it has one


def references(entries: Iterable[OutboxEntry], site: AdminSite) -> dict[int, Reference]:
    """``{entry pk: Reference}`` for every entry whose object or delete payload names it."""
    by_serializer: dict[str, list[OutboxEntry]] = defaultdict(list)
    for entry in entries:
        by_serializer[entry.serializer].append(entry)
    found: dict[int, Reference] = {}
    for label, group in by_serializer.items():
        objects = _objects(label, [entry.object_key for entry in group])
        for entry in group:
            obj = objects.get(entry.object_key)
            if obj is not None:
                found[entry.pk] = Reference(_bubblehouse_id(label, obj), _admin_url(site, obj))
            elif isinstance(entry.delete_payload, dict) and entry.delete_payload.get("id"):
                found[entry.pk] = Reference(str(entry.delete_payload["id"]))
    return found


def matching_entries(term: str) -> Q:
    """Rows of the objects whose Bubblehouse id is ``term`` (admin search)."""
    condition = Q(delete_payload__id=term)
    for serializer_cls in all_serializers():
        if serializer_cls.id_lookup() in (None, "pk"):
            continue  # computed: not searchable; the row's own key: the search matches it
        try:
            keys = list(serializer_cls().keys_for_ids([term]).values())
        except (ImproperlyConfigured, ValueError, TypeError, ValidationError) as error:
            logger.debug("no id search on %s: %s", serializer_cls.label(), error)
            continue
        if keys:
            condition |= Q(serializer=serializer_cls.label(), object_key__in=keys)
    return condition


def _objects(label: str, keys: list[str]) -> dict[str, Model]:
    try:
        serializer = get_serializer(label)()
    except LookupError:
        return {}
    try:
        rows = list(serializer.model._default_manager.filter(pk__in=keys))
    except (ValueError, TypeError, ValidationError):  # a key that cannot be this model's pk
        return {}
    return {str(obj.pk): obj for obj in rows}


def _bubblehouse_id(label: str, obj: Model) -> str:
    try:
        return get_serializer(label)().bubblehouse_id(obj)
    except Exception as error:  # a broken serializer must not break the outbox page
        return f"(no id: {error})"


def _admin_url(site: AdminSite, obj: Model) -> str | None:
    opts = obj._meta
    if not site.is_registered(type(obj)):
        return None
    try:
        return reverse(
            f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)]
        )
    except NoReverseMatch:
        return None
