"""Model instances from value rows: what iterating a queryset gives, built for less.

Django's ``ModelIterable`` builds each row through ``Model.from_db``, which calls
``Model.__init__``: signals, a loop over the fields, a descriptor per value. For
most models all of that only stores each column's value in the instance's
``__dict__``. :func:`instances_of` fetches the same query as value rows, builds the
first instance of each model with ``from_db``, and when that instance shows that
nothing else happened (no ``__init__`` or ``from_db`` override, no ``pre_init`` /
``post_init`` receiver, no field descriptor that transforms its value), builds
the other rows the same way directly, about four times faster. Otherwise every
row goes through ``from_db``.

``select_related`` is kept: the joined models' columns are selected in the same
query and their instances cached on the row, as Django's related populators do.

The rows are fetched as ``values_list`` would give them, with one difference in how
(not what) a column's values are converted: a backend's conversion of an immutable
type (SQLite's decimals, datetimes and booleans) is made once per distinct value of
the query's column, not once per row. A batch repeats such values a lot (the prices
of its lines, the product and variant joined to each of them), and Django spends a
microsecond or two on each (6-8 % of a SQLite backfill, measured).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, ForeignKey, Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.constants import LOOKUP_SEP
from django.db.models.query import ModelIterable
from django.db.models.signals import post_init, pre_init
from django.db.models.sql.constants import MULTI

from .timestamps import fast_timestamps

Tie = Callable[[dict[str, Any], str], None]


def instances_of(
    queryset: QuerySet[Any],
    extra: str | None = None,
    *,
    shared: bool = False,
    tie: Tie | None = None,
) -> list[tuple[Any, Any]] | None:
    """``queryset``'s instances, each with the value of the lookup ``extra`` (or None), or
    None when the queryset selects what only Django can build (annotations, deferred fields,
    another iterable class, a ``select_related`` through anything but forward foreign keys).

    ``shared``: a joined row found on several rows is one instance, as a prefetch gives
    (``select_related`` gives one per row). ``tie`` is told of each cache that points back
    at a row (the reverse side of a joined one-to-one), as ``(dict, key)``.
    """
    query = queryset.query
    if (
        queryset._iterable_class is not ModelIterable
        or query.annotations
        or query.extra
        or query.deferred_loading != (frozenset(), True)
        or queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        or query.select_related is True
    ):
        return None
    try:
        nodes = _plan(queryset.model, query.select_related or {}, shared)
    except _Unplanned:
        return None
    lookups = [lookup for node in nodes for lookup in node.lookups]
    values = queryset.values_list(*lookups, *([extra] if extra else []))
    db = values.db
    built = []
    root, joins = nodes[0], nodes[1:]
    with fast_timestamps(db):
        rows = _fetch(values)
    for row in rows:
        obj = root.build(db, row)
        if joins:
            objects: list[Model | None] = [obj]
            for node in joins:
                objects.append(node.join(db, row, objects[node.parent or 0], tie))
        built.append((obj, row[-1] if extra else None))
    return built


# Field types whose backend conversion gives an immutable value that depends on the value
# read alone, so one result can serve every row that read the same value.
_SHARED_RESULTS = frozenset(
    {"BooleanField", "DateField", "DateTimeField", "DecimalField", "TimeField", "UUIDField"}
)
# What such a result may be shared for: read values whose equality means sameness (not
# Decimal("1.0") == Decimal("1.00"), nor two aware datetimes at different offsets).
_SHARED_READS = frozenset({str, int, float, bool, bytes, type(None)})


def _fetch(values: QuerySet[Any]) -> list[list[Any]]:
    """The rows of ``values`` (a ``values_list``), as iterating it gives them (as lists)."""
    compiler = values.query.get_compiler(values.db)
    rows = [list(row) for chunk in compiler.execute_sql(MULTI) for row in chunk]
    selected = [select[0] for select in compiler.select[: compiler.col_count]]
    connection = compiler.connection
    for position, (functions, expression) in compiler.get_converters(selected).items():
        shared = (
            not expression.get_db_converters(connection)  # no field's from_db_value
            and expression.output_field.get_internal_type() in _SHARED_RESULTS
        )
        _convert(rows, position, functions, expression, connection, shared)
    return rows


def _convert(
    rows: list[list[Any]],
    position: int,
    functions: list[Callable[..., Any]],
    expression: Expression,
    connection: BaseDatabaseWrapper,
    shared: bool,
) -> None:
    results: dict[Any, Any] = {}
    for row in rows:
        read = value = row[position]
        shareable = shared and (
            type(value) in _SHARED_READS or (type(value) is dt.datetime and not value.tzinfo)
        )
        if shareable and value in results:
            row[position] = results[value]
            continue
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
        if shareable:
            results[read] = value


@dataclass
class _Node:
    """One model of the row: the root, or one reached through ``via`` from ``parent``."""

    model: type[Model]
    prefix: str
    parent: int | None
    via: ForeignKey[Any, Any] | None
    attnames: list[str] = field(default_factory=list)
    start: int = 0
    pk: int = 0
    # Decided by the first instance: whether the others can skip Model.__init__.
    direct: bool | None = None
    state: dict[str, Any] = field(default_factory=dict)
    # Joined instances by primary key, when they are shared.
    seen: dict[Any, Model] | None = None

    @property
    def lookups(self) -> list[str]:
        return [f"{self.prefix}{name}" for name in self.attnames]

    def join(
        self, db: str, row: Sequence[Any], parent: Model | None, tie: Tie | None
    ) -> Model | None:
        """The joined instance (None for a null foreign key), cached on ``parent``."""
        key = row[self.start + self.pk]
        if parent is None or key is None:
            return None
        found = None if self.seen is None else self.seen.get(key)
        obj = self.build(db, row) if found is None else found
        if self.seen is not None:
            self.seen[key] = obj
        assert self.via is not None
        self.via.set_cached_value(parent, obj)
        if not self.via.remote_field.multiple:
            self.via.remote_field.set_cached_value(obj, parent)
            if tie is not None:
                tie(obj._state.fields_cache, self.via.remote_field.cache_name)
        return obj

    def build(self, db: str, row: Sequence[Any]) -> Model:
        values = row[self.start : self.start + len(self.attnames)]
        if self.direct:
            obj = object.__new__(self.model)
            stored = obj.__dict__
            stored.update(zip(self.attnames, values, strict=True))
            stored["_state"] = state = ModelState.__new__(ModelState)
            state.__dict__.update(self.state)
            return obj
        obj = self.model.from_db(db, self.attnames, values)
        if self.direct is None:
            self.direct = _stores_only_values(self.model, obj, self.attnames, values)
            self.state = {k: v for k, v in vars(obj._state).items() if k != "fields_cache"}
        return obj


def _plan(model: type[Model], joined: Mapping[str, Any], shared: bool) -> list[_Node]:
    """The root and every ``select_related`` model, parents before children."""
    nodes = [_Node(model, "", None, None)]
    _add(nodes, 0, joined)
    for node in nodes[1:]:
        node.seen = {} if shared else None
    start = 0
    for node in nodes:
        node.attnames = [f.attname for f in node.model._meta.concrete_fields]
        node.pk = node.attnames.index(node.model._meta.pk.attname)
        node.start, start = start, start + len(node.attnames)
    return nodes


def _add(nodes: list[_Node], parent: int, joined: Mapping[str, Any]) -> None:
    model, prefix = nodes[parent].model, nodes[parent].prefix
    for name, deeper in joined.items():
        relation = model._meta.get_field(name)
        if not isinstance(relation, ForeignKey) or len(relation.foreign_related_fields) != 1:
            raise _Unplanned
        target = relation.related_model
        assert isinstance(target, type)
        nodes.append(_Node(target, f"{prefix}{name}{LOOKUP_SEP}", parent, relation))
        _add(nodes, len(nodes) - 1, deeper)


class _Unplanned(Exception):
    """A ``select_related`` step that is not a forward foreign key (a reverse one-to-one)."""


def _stores_only_values(
    model: type[Model], first: Model, attnames: list[str], values: Sequence[Any]
) -> bool:
    stored = vars(first)
    return (
        model.__init__ is Model.__init__
        and getattr(model.from_db, "__func__", None) is getattr(Model.from_db, "__func__", 0)
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
        and stored.keys() == {*attnames, "_state"}
        and all(stored[name] is value for name, value in zip(attnames, values, strict=True))
    )
