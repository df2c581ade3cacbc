"""Loading one batch of objects: the host's queryset, prefetched level by level.

``get_queryset()``'s ``prefetch_related`` lookups are followed one relation at a
time, and the common levels are loaded here rather than by Django's
``prefetch_related_objects``, giving the same objects, caches and query count
for much less work per object:

- a foreign key or forward one-to-one is one plain ``IN`` query (Django's own
  filters on a tuple of columns, which SQLite compiles into one ``OR`` branch
  per key);
- a reverse foreign key or a many-to-many relation is one query, as Django's,
  and each object's prefetched rows are the queryset Django's related manager
  would build, made from one template per level (Django builds a manager and
  two querysets per object: a third of a batch's load time);
- rows become model instances the way ``Model.from_db`` makes them, without
  calling ``Model.__init__`` for each row when the model cannot tell the
  difference (see :func:`_instances`).

Every other level (generic relations, ``Prefetch`` objects, attributes, a
default manager whose queryset selects more than the model's columns) is
Django's own ``prefetch_related_objects``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.db.models.base import ModelState
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.related_descriptors import (
    ForwardManyToOneDescriptor,
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
    ReverseOneToOneDescriptor,
)
from django.db.models.query import ModelIterable
from django.db.models.signals import post_init, pre_init

CACHE = "_prefetched_objects_cache"
# A level loaded here: the objects one level down, or None when Django must load the rest.
Level = Callable[[list[Any], Any, str], list[Any] | None]


def load(queryset: QuerySet[Any], keys: Sequence[str]) -> list[Any]:
    """The objects of ``queryset`` whose primary key is in ``keys`` (any order), prefetched."""
    rows = queryset.filter(pk__in=keys)
    lookups = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    if not lookups or not all(isinstance(lookup, str) for lookup in lookups):
        return list(rows)
    objects = list(rows.prefetch_related(None))
    for lookup in lookups:
        _prefetch(objects, lookup.split(LOOKUP_SEP))
    return objects


def _prefetch(instances: list[Any], parts: list[str]) -> None:
    for depth, part in enumerate(parts):
        # Shared related objects (one product on many lines) are prefetched once.
        instances = list({id(obj): obj for obj in instances if obj is not None}.values())
        if not instances:
            return
        model = type(instances[0])
        descriptor = getattr(model, part, None)
        level = _level(descriptor) if all(type(obj) is model for obj in instances) else None
        found = None if level is None else level(instances, descriptor, part)
        if found is None:
            # Whatever else Django can prefetch through, it prefetches the rest of the path.
            prefetch_related_objects(instances, LOOKUP_SEP.join(parts[depth:]))
            return
        instances = found


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
    instances: list[Model], descriptor: ForwardManyToOneDescriptor, part: str
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
        rows = _instances(manager.filter(**{f"{target}__in": values}))
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
    return [field.get_cached_value(obj, None) for obj in instances]


def _reverse(
    instances: list[Model], descriptor: ReverseManyToOneDescriptor, part: str
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
        queryset = _related_queryset(manager, missing).filter(**{f"{field.name}__in": missing})
        rows = _instances(queryset)
        if rows is None:
            return None
        owners = {getattr(obj, target): obj for obj in missing}
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for row, _ in rows:
            owner = owners[getattr(row, field.attname)]
            if not field.is_cached(row):
                field.set_cached_value(row, owner)
            grouped[id(owner)].append(row)
        template = super(type(manager), manager).get_queryset()
        for obj in missing:
            # What the manager's _apply_rel_filters() makes of a fresh queryset for ``obj``.
            cached = _filtered(template, obj, {field.name: obj}, sticky=False)
            cached._known_related_objects = {field: {getattr(obj, target): obj}}
            _store(obj, cache_name, cached, grouped[id(obj)])
    return _cached_rows(instances, cache_name)


def _many_to_many(
    instances: list[Model], descriptor: ManyToManyDescriptor, part: str
) -> list[Any] | None:
    """A many-to-many relation, either side, as its related manager prefetches it."""
    manager = getattr(instances[0], part)
    if len(manager.source_field.related_fields) != 1:
        return None
    owner_field = manager.source_field.related_fields[0][1]
    cache_name = manager.prefetch_cache_name
    missing = [obj for obj in instances if cache_name not in obj.__dict__.get(CACHE, ())]
    if missing:
        queryset = _related_queryset(manager, missing)
        queryset = queryset._next_is_sticky().filter(**{f"{manager.query_field_name}__in": missing})
        # The owner's key, read from the join table the filter already joins (Django's own
        # prefetch selects the same column through extra()).
        owner_key = f"{manager.query_field_name}__{owner_field.name}"
        rows = _instances(queryset, owner_key)
        if rows is None:
            return None
        owners = {getattr(obj, owner_field.attname): obj for obj in missing}
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row, key in rows:
            grouped[id(owners[key])].append(row)
        template = super(type(manager), manager).get_queryset()
        for obj in missing:
            filters = {owner_key: getattr(obj, owner_field.attname)}
            _store(
                obj, cache_name, _filtered(template, obj, filters, sticky=True), grouped[id(obj)]
            )
    return _cached_rows(instances, cache_name)


def _reverse_one(
    instances: list[Model], descriptor: ReverseOneToOneDescriptor, part: str
) -> list[Any] | None:
    """A reverse one-to-one (``user.customer``): Django's prefetch, then one level down."""
    prefetch_related_objects(instances, part)
    found = []
    for obj in instances:
        try:
            found.append(getattr(obj, part))
        except ObjectDoesNotExist:
            continue
    return found


def _related_queryset(manager: Any, instances: list[Model]) -> QuerySet[Any]:
    """The queryset the related manager's prefetch starts from: the related model's default
    manager, routed with the first instance as hint."""
    queryset: QuerySet[Any] = super(type(manager), manager).get_queryset()
    queryset._add_hints(instance=instances[0])  # type: ignore[attr-defined]
    return queryset.using(queryset._db or manager._db)  # type: ignore[attr-defined]


def _filtered(
    template: QuerySet[Any], obj: Model, filters: dict[str, Any], *, sticky: bool
) -> QuerySet[Any]:
    """``template`` filtered to ``obj``'s related rows, the filter deferred until the query is
    needed, as a related manager's ``_apply_rel_filters()`` leaves it."""
    if sticky:
        template._next_is_sticky()  # type: ignore[attr-defined]
    template._defer_next_filter = True  # type: ignore[attr-defined]
    queryset = template.filter(**filters)
    queryset._hints = {**template._hints, "instance": obj}  # type: ignore[attr-defined]
    return queryset


def _store(obj: Model, cache_name: str, queryset: QuerySet[Any], rows: list[Any]) -> None:
    queryset._result_cache = rows  # type: ignore[attr-defined]
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    obj.__dict__.setdefault(CACHE, {})[cache_name] = queryset


def _cached_rows(instances: Iterable[Model], cache_name: str) -> list[Any]:
    return [row for obj in instances for row in obj.__dict__[CACHE][cache_name]]


def _instances(queryset: QuerySet[Any], extra: str | None = None) -> list[tuple[Any, Any]] | None:
    """``queryset``'s model instances (each with the value of the lookup ``extra``), or None
    when the queryset selects more than the model's own columns (Django must build those).

    The first row is built by ``Model.from_db``. When that shows that building an instance
    only stores each column's value in its ``__dict__`` (no ``__init__`` or ``from_db``
    override, no ``pre_init``/``post_init`` receiver, no field descriptor that transforms
    what it is given), the other rows are built the same way directly: four times faster.
    """
    model = queryset.model
    query = queryset.query
    if (
        queryset._iterable_class is not ModelIterable  # type: ignore[attr-defined]
        or query.select_related
        or query.annotations
        or query.extra
        or query.deferred_loading != (frozenset(), True)
        or queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    ):
        return None
    attnames = [field.attname for field in model._meta.concrete_fields]
    values = queryset.values_list(*attnames, *([extra] if extra else []))
    rows = list(values)
    if not rows:
        return []
    db = values.db
    width = len(attnames)
    first = model.from_db(db, attnames, rows[0][:width])
    built = [(first, rows[0][width] if extra else None)]
    if not _stores_only_values(model, first, attnames, rows[0]):
        built += [
            (model.from_db(db, attnames, row[:width]), row[width] if extra else None)
            for row in rows[1:]
        ]
        return built
    state = {key: value for key, value in vars(first._state).items() if key != "fields_cache"}
    new_object, new_state = object.__new__, ModelState.__new__
    for row in rows[1:]:
        obj = new_object(model)
        fields = obj.__dict__
        fields.update(zip(attnames, row, strict=False))
        fields["_state"] = own_state = new_state(ModelState)
        own_state.__dict__.update(state)
        built.append((obj, row[width] if extra else None))
    return built


def _stores_only_values(model: type[Model], first: Model, attnames: list[str], row: Any) -> bool:
    stored = vars(first)
    return (
        model.__init__ is Model.__init__
        and getattr(model.from_db, "__func__", None) is getattr(Model.from_db, "__func__", 0)
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
        and stored.keys() == {*attnames, "_state"}
        and all(stored[name] is value for name, value in zip(attnames, row, strict=False))
    )
