"""Loading one batch of objects: the host's queryset, prefetched level by level.

``get_queryset()``'s ``prefetch_related`` lookups are followed one relation at a
time, and the common levels are loaded here rather than by Django's
``prefetch_related_objects``: the same objects and caches, never more queries,
for much less work per object:

- a foreign key or forward one-to-one is one plain ``IN`` query (Django's own
  filters on a tuple of columns, which SQLite compiles into one ``OR`` branch
  per key);
- a reverse foreign key or a many-to-many relation is one query, as Django's,
  joined with the forward foreign keys that follow it in the lookup
  (``lines__variant__product``: one query where Django makes three); each
  object's prefetched rows are the queryset its related manager would return,
  built without the manager and the two clones Django makes per object (a
  third of a batch's load time);
- rows become model instances the way ``Model.from_db`` makes them, without
  calling ``Model.__init__`` for each row when the model cannot tell the
  difference (see :mod:`.rows`).

Every other level (generic relations, ``Prefetch`` objects, attributes, a
default manager whose queryset selects more than the model's columns) is
Django's own ``prefetch_related_objects``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.related_descriptors import (
    ForwardManyToOneDescriptor,
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
    ReverseOneToOneDescriptor,
)

from .rows import instances_of

CACHE = "_prefetched_objects_cache"
# A level loaded here: the objects one level down, or None when Django must load the rest.
Level = Callable[["Loaded", list[Any], Any, str, str | None], list[Any] | None]


@dataclasses.dataclass
class Loaded:
    """A loaded batch: its objects, and what ties them to each other.

    ``ties`` are the caches this module set that make reference cycles (an order's
    prefetched lines, each pointing back at it; the two sides of a one-to-one), as
    ``(dict, key)`` entries to pop; None when Django's own prefetch loaded some level,
    whose caches only a walk over the objects finds.
    """

    objects: list[Any]
    ties: list[tuple[dict[str, Any], str]] | None = dataclasses.field(default_factory=list)

    def tie(self, store: dict[str, Any], key: str) -> None:
        if self.ties is not None:
            self.ties.append((store, key))

    def release(self) -> None:
        """Untie the batch, so reference counting frees it once it is sent instead of
        leaving tens of thousands of objects to the cyclic collector."""
        if self.ties is None:
            _untie_all(self.objects)
            return
        for store, key in self.ties:
            store.pop(key, None)
        self.ties.clear()


def load(queryset: QuerySet[Any], keys: Sequence[str]) -> Loaded:
    """The objects of ``queryset`` whose primary key is in ``keys`` (any order), prefetched."""
    lookups = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    if not all(isinstance(lookup, str) for lookup in lookups):
        return Loaded(list(queryset.filter(pk__in=keys)), ties=None)
    rows = queryset.filter(pk__in=keys).prefetch_related(None)
    loaded = Loaded([])
    built = instances_of(rows, tie=loaded.tie)
    if built is None:  # Django built the rows, and whatever its related caches tie
        loaded = Loaded(list(rows), ties=None)
    else:
        loaded.objects = [obj for obj, _ in built]
    for lookup in lookups:
        _prefetch(loaded, loaded.objects, lookup.split(LOOKUP_SEP))
    return loaded


def _untie_all(objects: list[Any]) -> None:
    pending, seen = list(objects), set()
    while pending:
        obj = pending.pop()
        if not isinstance(obj, Model) or id(obj) in seen:
            continue
        seen.add(id(obj))
        related = obj._state.__dict__.pop("fields_cache", None) or {}
        pending.extend(related.values())
        for rows in (obj.__dict__.pop(CACHE, None) or {}).values():
            pending.extend(getattr(rows, "_result_cache", None) or ())


def _prefetch(loaded: Loaded, instances: list[Any], parts: list[str]) -> None:
    for depth, part in enumerate(parts):
        # Shared related objects (one product on many lines) are prefetched once.
        instances = list({id(obj): obj for obj in instances if obj is not None}.values())
        if not instances:
            return
        model = type(instances[0])
        descriptor = getattr(model, part, None)
        level = _level(descriptor) if all(type(obj) is model for obj in instances) else None
        joined = _forward_hops(descriptor, parts[depth + 1 :])
        found = None if level is None else level(loaded, instances, descriptor, part, joined)
        if found is None:
            # Whatever else Django can prefetch through, it prefetches the rest of the path.
            prefetch_related_objects(instances, LOOKUP_SEP.join(parts[depth:]))
            loaded.ties = None
            return
        instances = found


def _forward_hops(descriptor: Any, rest: list[str]) -> str | None:
    """The forward foreign keys that follow a reverse or many-to-many level in the lookup
    (``lines__variant__product``): that level's query joins them, as ``select_related``
    would, and the forward levels find their objects cached (a query fewer per hop)."""
    if isinstance(descriptor, ManyToManyDescriptor):
        model = descriptor.rel.related_model if descriptor.reverse else descriptor.rel.model
    elif isinstance(descriptor, ReverseManyToOneDescriptor):
        model = descriptor.rel.related_model
    else:
        return None
    hops = []
    for name in rest:
        step = getattr(model, name, None)
        if not isinstance(step, ForwardManyToOneDescriptor):
            break
        hops.append(name)
        model = step.field.related_model
    return LOOKUP_SEP.join(hops) or None


def _level(descriptor: Any) -> Level | None:
    if isinstance(descriptor, ForwardManyToOneDescriptor):
        return _forward
    if isinstance(descriptor, ManyToManyDescriptor):
        return _many_to_many
    if isinstance(descriptor, ReverseManyToOneDescriptor):
        return _reverse
    if isinstance(descriptor, ReverseOneToOneDescriptor):
        return _reverse_one
    return None


def _forward(
    loaded: Loaded,
    instances: list[Model],
    descriptor: ForwardManyToOneDescriptor[Any],
    part: str,
    joined: str | None,
) -> list[Any] | None:
    """Cache the foreign key's related object on each instance that lacks it: one query."""
    field = descriptor.field
    if len(field.foreign_related_fields) != 1:
        return None
    missing = [obj for obj in instances if not field.is_cached(obj)]
    values = {getattr(obj, field.attname) for obj in missing} - {None}
    if values:
        target = field.foreign_related_fields[0].attname
        # As Django's forward descriptor does: the base manager, routed with the instance as hint.
        manager = field.remote_field.model._base_manager.db_manager(hints={"instance": missing[0]})
        rows = instances_of(manager.filter(**{f"{target}__in": values}), tie=loaded.tie)
        if rows is None:
            return None
        found = {getattr(obj, target): obj for obj, _ in rows}
    else:
        found = {}
    for obj in missing:
        related = found.get(getattr(obj, field.attname))
        field.set_cached_value(obj, related)
        if related is not None and not field.remote_field.multiple:
            field.remote_field.set_cached_value(related, obj)
            loaded.tie(related._state.fields_cache, field.remote_field.cache_name)
    return [field.get_cached_value(obj, None) for obj in instances]


def _reverse(
    loaded: Loaded,
    instances: list[Model],
    descriptor: ReverseManyToOneDescriptor[Any],
    part: str,
    joined: str | None,
) -> list[Any] | None:
    """A reverse foreign key (``order.lines``), as its related manager prefetches it."""
    field = descriptor.field
    manager = getattr(instances[0], part)
    if not field.many_to_one or len(field.foreign_related_fields) != 1:
        return None  # a generic relation, or a foreign key to several columns
    target = field.foreign_related_fields[0].attname
    cache_name = field.remote_field.cache_name
    missing = [obj for obj in instances if cache_name not in obj.__dict__.get(CACHE, ())]
    if missing:
        owners = {getattr(obj, target): obj for obj in missing}
        # By key rather than by instance, which the lookup would turn into keys one by one.
        queryset = _related_queryset(manager, missing, joined).filter(
            **{f"{field.attname}__in": list(owners)}
        )
        rows = instances_of(queryset, shared=True, tie=loaded.tie)
        if rows is None:
            return None
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for row, _ in rows:
            owner = owners[getattr(row, field.attname)]
            if not field.is_cached(row):
                field.set_cached_value(row, owner)
            grouped[id(owner)].append(row)
        for obj in missing:
            cached = _cached_queryset(manager, obj, {field.name: obj}, sticky=False)
            cached._known_related_objects = {field: {getattr(obj, target): obj}}  # type: ignore[attr-defined]
            _store(loaded, obj, cache_name, cached, grouped[id(obj)])
    return _cached_rows(instances, cache_name)


def _many_to_many(
    loaded: Loaded,
    instances: list[Model],
    descriptor: ManyToManyDescriptor[Any],
    part: str,
    joined: str | None,
) -> list[Any] | None:
    """A many-to-many relation, either side, as its related manager prefetches it."""
    manager = getattr(instances[0], part)
    if len(manager.source_field.related_fields) != 1:
        return None
    owner_field = manager.source_field.related_fields[0][1]
    cache_name = manager.prefetch_cache_name
    missing = [obj for obj in instances if cache_name not in obj.__dict__.get(CACHE, ())]
    if missing:
        # The owner's key, read from the join table the filter joins (Django's own prefetch
        # selects the same column through extra()).
        owner_key = f"{manager.query_field_name}__{owner_field.name}"
        owners = {getattr(obj, owner_field.attname): obj for obj in missing}
        queryset = _related_queryset(manager, missing, joined)._next_is_sticky()  # type: ignore[attr-defined]
        filtered = queryset.filter(**{f"{owner_key}__in": list(owners)})
        rows = instances_of(filtered, owner_key, shared=True, tie=loaded.tie)
        if rows is None:
            return None
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row, key in rows:
            grouped[id(owners[key])].append(row)
        for obj in missing:
            filters = {owner_key: getattr(obj, owner_field.attname)}
            cached = _cached_queryset(manager, obj, filters, sticky=True)
            _store(loaded, obj, cache_name, cached, grouped[id(obj)])
    return _cached_rows(instances, cache_name)


def _reverse_one(
    loaded: Loaded,
    instances: list[Model],
    descriptor: ReverseOneToOneDescriptor[Any, Any],
    part: str,
    joined: str | None,
) -> list[Any] | None:
    """A reverse one-to-one (``user.customer``): Django's prefetch, then one level down."""
    prefetch_related_objects(instances, part)
    loaded.ties = None
    found = []
    for obj in instances:
        try:
            found.append(getattr(obj, part))
        except ObjectDoesNotExist:
            continue
    return found


def _related_queryset(manager: Any, instances: list[Model], joined: str | None) -> QuerySet[Any]:
    """The queryset the related manager's prefetch starts from: the related model's default
    manager, routed with the first instance as hint (and joining the forward hops after it)."""
    queryset: QuerySet[Any] = super(type(manager), manager).get_queryset()
    queryset._add_hints(instance=instances[0])  # type: ignore[attr-defined]
    queryset = queryset.using(queryset._db or manager._db)  # type: ignore[attr-defined]
    if joined and not queryset.query.select_related:
        queryset = queryset.select_related(joined)
        if not queryset.ordered:
            # Without an order the join would change the order rows come in (PostgreSQL's
            # hash join), where the plain query gives them in the table's order.
            queryset = queryset.order_by("pk")
    return queryset


def _cached_queryset(
    manager: Any, obj: Model, filters: dict[str, Any], *, sticky: bool
) -> QuerySet[Any]:
    """What ``obj``'s related manager returns for its rows: a fresh queryset of the related
    model's default manager, filtered to ``obj`` once a query needs it, as the manager's
    ``_apply_rel_filters()`` leaves it, without the manager and the clones Django builds."""
    queryset: QuerySet[Any] = super(type(manager), manager).get_queryset()
    queryset._hints = {**queryset._hints, "instance": obj}  # type: ignore[attr-defined]
    if sticky:  # what _next_is_sticky() before a filter leaves on the query
        queryset.query.filter_is_sticky = True
    queryset._deferred_filter = (False, (), filters)  # type: ignore[attr-defined]
    return queryset


def _store(
    loaded: Loaded, obj: Model, cache_name: str, queryset: QuerySet[Any], rows: list[Any]
) -> None:
    queryset._result_cache = rows
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    if CACHE not in obj.__dict__:
        obj.__dict__[CACHE] = {}
        loaded.tie(obj.__dict__, CACHE)
    obj.__dict__[CACHE][cache_name] = queryset


def _cached_rows(instances: Iterable[Model], cache_name: str) -> list[Any]:
    return [row for obj in instances for row in obj.__dict__[CACHE][cache_name]]
