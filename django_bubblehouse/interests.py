"""What a change to a row of one model class means for the outbox, looked up once per class.

A model is *serialized itself* (``own``), leads to serialized objects through
``related`` entries and explicit through models of ``m2m_fields``
(``parents``), or has neither and costs one dict lookup per save. The signal
receivers, the bulk :func:`~django_bubblehouse.changes.mark_dirty` and the
``SET_NULL`` handling all read the same table, so a row reaches the same
objects whichever way its change is seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db.models import (
    CASCADE,
    DO_NOTHING,
    PROTECT,
    RESTRICT,
    ForeignKey,
    ForeignObjectRel,
    Model,
    QuerySet,
)

from .conf import SETTINGS_NAME
from .relations import Hop, Link, PathError, PathLink, links
from .serializers import Serializer
from .serializers.registry import (
    serializers_for_model,
    serializers_for_related,
    serializers_for_through_rows,
)
from .serializers.watching import watched_through


@dataclass(frozen=True)
class Interest:
    # (serializer, watched fields of this model, or None: every save counts)
    own: tuple[tuple[type[Serializer], frozenset[str] | None], ...]
    parents: tuple[tuple[type[Serializer], Link, frozenset[str] | None], ...]

    def keys(self, instance: Model, using: str | None) -> dict[type[Serializer], list[str]]:
        """The keys a change to ``instance`` dirties, per serializer (own and parents)."""
        found = {serializer_cls: [str(instance.pk)] for serializer_cls, _ in self.own}
        for serializer_cls, keys in self.parent_keys(instance, using).items():
            found.setdefault(serializer_cls, []).extend(keys)
        return found

    def parent_keys(
        self, instance: Model, using: str | None, changed: Iterable[str] | None = None
    ) -> dict[type[Serializer], list[str]]:
        """Keys of the objects ``instance`` leads to; ``changed`` (a save's ``update_fields``)
        naming none of the fields a serializer reads through that link leaves it out."""
        found: dict[type[Serializer], list[str]] = {}
        for serializer_cls, link, watched in self.parents:
            if changed is None or watches(watched, changed):
                found.setdefault(serializer_cls, []).extend(link.keys(instance, using))
        return found

    def queryset_keys(self, queryset: QuerySet[Any]) -> dict[type[Serializer], list[str]]:
        """The same for every row of ``queryset``, with one query per serializer or path."""
        found: dict[type[Serializer], list[str]] = {}
        if self.own:
            pks = [str(pk) for pk in queryset.order_by().values_list("pk", flat=True).iterator()]
            for serializer_cls, _ in self.own:
                found.setdefault(serializer_cls, []).extend(pks)
        for serializer_cls, link, _ in self.parents:
            found.setdefault(serializer_cls, []).extend(link.queryset_keys(queryset))
        return found


_interests: dict[type[Model], Interest | None] = {}
_nulled: dict[type[Model], tuple[ForeignKey[Any, Any], ...]] = {}
# What Django does to a referencing row without a signal: SET_NULL, SET_DEFAULT, SET(...).
_SIGNALLED_OR_REFUSED = (CASCADE, PROTECT, RESTRICT, DO_NOTHING)


def interest_in(model: type[Model]) -> Interest | None:
    if model not in _interests:
        own = tuple((s, s.watched()) for s in serializers_for_model(model))
        parents = [
            (serializer, link, _watched_through(serializer, model, link))
            for serializer, way in serializers_for_related(model)
            for link in _links(model, way, serializer)
        ]
        parents.extend(
            (serializer, PathLink((Hop(_foreign_key(model, name)),)), None)
            for serializer, name in serializers_for_through_rows(model)
        )
        _interests[model] = Interest(own, tuple(parents)) if own or parents else None
    return _interests[model]


def nulled_by_delete(model: type[Model]) -> tuple[ForeignKey[Any, Any], ...]:
    """Foreign keys to ``model`` that a delete rewrites with an ``UPDATE`` (``SET_NULL``...),
    on models whose change matters: those rows change without any signal.

    Hidden relations too (``related_name="+"``): the delete's collector rewrites them all
    the same (it walks ``get_fields(include_hidden=True)``, which ``related_objects`` is not).
    """
    if model not in _nulled:
        _nulled[model] = tuple(
            rel.field
            for rel in model._meta.get_fields(include_hidden=True)
            if isinstance(rel, ForeignObjectRel)
            and isinstance(rel.field, ForeignKey)
            and rel.on_delete not in _SIGNALLED_OR_REFUSED
            and interest_in(rel.related_model) is not None
        )
    return _nulled[model]


def watches(watched: frozenset[str] | None, changed: Iterable[str]) -> bool:
    return watched is None or not watched.isdisjoint(changed)


def _watched_through(
    serializer: type[Serializer], model: type[Model], link: Link
) -> frozenset[str] | None:
    back = link.back if isinstance(link, PathLink) else None
    return None if back is None else watched_through(serializer, model, back)


def _links(model: type[Model], way: Any, serializer: type[Serializer]) -> Iterable[Link]:
    try:
        return links(model, way, serializer)
    except PathError as error:
        raise ImproperlyConfigured(
            f"{serializer.label()}.related[{model._meta.label!r}]: {error} "
            "(see check bubblehouse.E026)"
        ) from error


def _foreign_key(model: type[Model], name: str) -> ForeignKey[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, ForeignKey)  # a through model's side is always a foreign key
    return field


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        _interests.clear()
        _nulled.clear()


setting_changed.connect(_forget, dispatch_uid="django_bubblehouse.interests")
