"""Which objects a backfill or replace covers: kinds, time window, ids, key range.

The serializer's own ``get_queryset()`` is the starting point, so a host's
filters apply to backfills exactly as to live pushes; ``should_sync()`` is
applied per object by ``serialize_keys``. Keys are walked in primary-key order
through :class:`~django_bubblehouse.keyset.Keyset`, which keeps every page one
query and lets a cursor (the last key done) resume the walk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model, QuerySet

from ..keyset import Keyset
from ..kinds import Kind
from ..serializers import Serializer
from ..serializers.registry import all_serializers

SerializerClass = type[Serializer]


class SelectionError(ValueError):
    """The options cannot select anything meaningful; the message is for the user."""


@dataclass(frozen=True)
class Selection:
    kinds: tuple[Kind, ...] = ()  # empty: every kind
    since: dt.datetime | None = None  # inclusive, on the serializer's updated_field
    until: dt.datetime | None = None  # exclusive
    ids: tuple[str, ...] = ()
    entity_set: str | None = None

    def fingerprint(self) -> str:
        """Identifies "the same backfill" so ``--resume`` never continues a different one."""
        data = asdict(self)
        data["kinds"] = sorted(str(kind) for kind in self.kinds)
        data["ids"] = sorted(self.ids)
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """Stored with a run, so ``--resume`` and fan-out tasks select the same objects."""
        return {
            "kinds": [str(kind) for kind in self.kinds],
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "ids": list(self.ids),
            "entity_set": self.entity_set,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Selection:
        return cls(
            kinds=tuple(Kind(kind) for kind in data["kinds"]),
            since=_time(data["since"]),
            until=_time(data["until"]),
            ids=tuple(data["ids"]),
            entity_set=data["entity_set"],
        )


def selected_serializers(selection: Selection) -> list[SerializerClass]:
    """The registered serializers the selection covers, in registry order."""
    chosen = [
        cls
        for cls in all_serializers()
        if (not selection.kinds or cls.kind in selection.kinds)
        and (selection.entity_set is None or cls.entity_set == selection.entity_set)
    ]
    if not chosen:
        wanted = ", ".join(str(kind) for kind in selection.kinds) or "any kind"
        if selection.entity_set:
            wanted += f" feeding entity set {selection.entity_set!r}"
        raise SelectionError(f"no serializer is registered for {wanted}")
    if selection.ids and len({cls.model for cls in chosen}) > 1:
        raise SelectionError("--ids needs a single kind whose serializers share one model")
    if selection.ids:
        _check_ids(chosen[0], selection.ids)
    if selection.since or selection.until:
        for cls in chosen:
            if cls.updated_field is None:
                raise SelectionError(
                    f"{cls.label()} declares no updated_field, so --since/--until cannot "
                    "apply to it; choose other kinds or drop the time window"
                )
    return chosen


def base_queryset(serializer_cls: SerializerClass, selection: Selection) -> QuerySet[Any]:
    queryset: QuerySet[Any] = serializer_cls().get_queryset()
    field = serializer_cls.updated_field
    if field is not None and selection.since is not None:
        queryset = queryset.filter(**{f"{field}__gte": selection.since})
    if field is not None and selection.until is not None:
        queryset = queryset.filter(**{f"{field}__lt": selection.until})
    if selection.ids:  # Bubblehouse ids (an order number), as every user-facing input
        queryset = queryset.filter(serializer_cls.id_filter(selection.ids))
    return queryset


def _check_ids(serializer_cls: SerializerClass, ids: tuple[str, ...]) -> None:
    try:
        found = serializer_cls().keys_for_ids(ids)
    except ImproperlyConfigured as error:
        raise SelectionError(str(error)) from error
    unknown = [text for text in ids if text not in found]
    if unknown:
        raise SelectionError(
            f"no {serializer_cls.model._meta.label} has the Bubblehouse id "
            f"{', '.join(map(repr, unknown))} (ids are those the objects are pushed with)"
        )


def keyset(
    serializer_cls: SerializerClass, selection: Selection, *, end_at: str | None = None
) -> Keyset:
    """The walk over the selection, optionally capped at ``end_at`` (inclusive)."""
    queryset = base_queryset(serializer_cls, selection)
    if end_at is not None:
        queryset = queryset.filter(pk__lte=to_key(queryset.model, end_at))
    return Keyset(queryset)


def count(
    serializer_cls: SerializerClass,
    selection: Selection,
    *,
    after: str | None = None,
    end_at: str | None = None,
) -> int:
    """Rows left in a range (one COUNT query; for progress and confirmations)."""
    queryset = base_queryset(serializer_cls, selection)
    if after is not None:
        queryset = queryset.filter(pk__gt=to_key(queryset.model, after))
    if end_at is not None:
        queryset = queryset.filter(pk__lte=to_key(queryset.model, end_at))
    return queryset.count()


def to_key(model: type[Model], key: str) -> object:
    field = model._meta.pk
    assert field is not None  # every concrete model has one
    try:
        return field.to_python(key)
    except ValidationError as error:
        raise SelectionError(f"{key!r} is not a valid key for {model._meta.label}") from error


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)
