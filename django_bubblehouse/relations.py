"""``Serializer.related``: from a changed row of another model to the serialized objects' keys.

An entry ``"app_label.Model": <way>`` says how a change to a row of that model
reaches the serialized objects it belongs to. ``<way>`` is

- a dotted path of single-valued relations from that model to the serialized
  one: forward foreign keys / one-to-ones (``"shop.OrderLine": "order"``,
  ``"catalogue.StockRecord": "product.parent"``) and reverse accessors of
  one-to-ones (``"auth.User": "customer"`` for ``Customer.user``); a ``None``
  midway (a nullable hop) means "nothing to push";
- a tuple of such paths, when a row can belong by more than one way (a stock
  record of a standalone product and of a variant: ``("product", "product.parent")``);
- ``None``: the serializer's ``get_instances_from_related(row)`` says, for
  anything a path cannot (a fan-out to many objects, a computed membership).

A path costs no query when its first hop is a foreign key column (or the
related objects are already loaded), and one ``values_list`` query otherwise,
whatever its length. The system checks and the receivers resolve entries here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.core.exceptions import FieldDoesNotExist
from django.db.models import ForeignKey, Model, OneToOneRel, QuerySet


class Serialized(Protocol):
    """What relations need of a serializer: its model, and the hook for what a path
    cannot say (so ``relations`` does not depend on ``serializers``)."""

    model: ClassVar[type[Model]]

    def get_instances_from_related(self, related_instance: Model) -> Iterable[Any]: ...


RelatedWay = str | Sequence[str] | None
_MISSING = object()


@dataclass(frozen=True)
class Hop:
    """One single-valued relation: a forward foreign key, or a reverse one-to-one."""

    relation: ForeignKey[Any, Any] | OneToOneRel

    @property
    def forward(self) -> bool:
        return isinstance(self.relation, ForeignKey)

    @property
    def remote(self) -> type[Model]:
        model = self.relation.related_model
        assert isinstance(model, type)  # resolved: the app registry is ready
        return model

    @property
    def query_name(self) -> str:
        if isinstance(self.relation, ForeignKey):
            return self.relation.name
        return self.relation.field.related_query_name()

    def cached(self, obj: Model) -> Any:
        """The related object already loaded on ``obj`` (no query), or ``_MISSING``."""
        if isinstance(self.relation, ForeignKey):
            if getattr(obj, self.relation.attname) is None:
                return None
            return self.relation.get_cached_value(obj, default=_MISSING)
        # A cached "no profile" is not trusted: one may have been created since.
        found = self.relation.get_cached_value(obj, default=None)
        return _MISSING if found is None else found


@dataclass(frozen=True)
class PathLink:
    """A dotted path of hops from the changed model to the serialized one."""

    hops: tuple[Hop, ...]

    @property
    def lookup(self) -> str:
        return "__".join(hop.query_name for hop in self.hops)

    @property
    def back(self) -> str | None:
        """The serialized model's attribute leading back to the changed row (one hop only):
        ``"user"`` for ``"auth.User": "customer"``, ``"lines"`` for ``"shop.Line": "order"``."""
        if len(self.hops) != 1:
            return None
        relation = self.hops[0].relation
        if isinstance(relation, ForeignKey):
            return relation.remote_field.get_accessor_name()
        return relation.field.name

    def keys(self, instance: Model, using: str | None) -> list[str]:
        obj, hops = instance, self.hops
        while hops and (loaded := hops[0].cached(obj)) is not _MISSING:
            if loaded is None:
                return []
            obj, hops = loaded, hops[1:]
        if not hops:
            return [str(obj.pk)]
        first, rest = hops[0], hops[1:]
        if isinstance(first.relation, ForeignKey):
            value = getattr(obj, first.relation.attname)
            if value is None:
                return []
            if not rest:
                return [str(value)]
            start = first.remote._default_manager.db_manager(using).filter(pk=value)
        else:
            field = first.relation.field
            value = getattr(obj, field.target_field.attname)
            if value is None:
                return []
            start = field.model._default_manager.db_manager(using).filter(**{field.attname: value})
        lookup = "__".join(hop.query_name for hop in rest) or "pk"
        return [str(key) for key in start.values_list(lookup, flat=True) if key is not None]

    def queryset_keys(self, queryset: QuerySet[Any]) -> Iterator[str]:
        rows = queryset.order_by().values_list(self.lookup, flat=True).distinct()
        return (str(key) for key in rows.iterator() if key is not None)


@dataclass(frozen=True)
class MethodLink:
    """``serializer.get_instances_from_related(row)``: objects or keys of the serialized model."""

    serializer: type[Serialized]

    def keys(self, instance: Model, using: str | None) -> list[str]:
        found = self.serializer().get_instances_from_related(instance)
        return [str(item.pk if isinstance(item, Model) else item) for item in found or ()]

    def queryset_keys(self, queryset: QuerySet[Any]) -> Iterator[str]:
        for row in queryset.iterator():
            yield from self.keys(row, queryset.db)


Link = PathLink | MethodLink


class PathError(ValueError):
    """A ``related`` path that does not lead to the serialized model; the message says why."""


def parse_path(related: type[Model], path: str, serialized: type[Model]) -> PathLink:
    """The hops of ``path`` from ``related`` to ``serialized``; :class:`PathError` if none."""
    target = serialized._meta.concrete_model
    model: type[Model] = related
    hops: list[Hop] = []
    for name in path.split("."):
        hop = _hop(model, name)
        if hop is None:
            if not hops:  # the one-hop wording every older entry was checked with
                raise PathError(
                    f"{name!r} is neither a foreign key from {related._meta.label} to "
                    f"{serialized._meta.label} nor the reverse accessor of a one-to-one from "
                    f"{serialized._meta.label} to {related._meta.label}"
                )
            raise PathError(
                f"{name!r} (in {path!r}) is neither a foreign key nor the reverse accessor of a "
                f"one-to-one of {model._meta.label}"
            )
        hops.append(hop)
        model = hop.remote
    if model._meta.concrete_model is not target:
        if len(hops) == 1:
            raise PathError(
                f"{path!r} is neither a foreign key from {related._meta.label} to "
                f"{serialized._meta.label} nor the reverse accessor of a one-to-one from "
                f"{serialized._meta.label} to {related._meta.label}"
            )
        raise PathError(f"{path!r} ends at {model._meta.label}, not {serialized._meta.label}")
    return PathLink(tuple(hops))


def paths_of(way: RelatedWay) -> tuple[str, ...]:
    """The paths of a ``related`` value (none for the method hook)."""
    if way is None:
        return ()
    return (way,) if isinstance(way, str) else tuple(way)


def links(related: type[Model], way: RelatedWay, serializer: type[Serialized]) -> list[Link]:
    if way is None:
        return [MethodLink(serializer)]
    return [parse_path(related, path, serializer.model) for path in paths_of(way)]


def _hop(model: type[Model], name: str) -> Hop | None:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if isinstance(field, ForeignKey):  # OneToOneField included
        return Hop(field)
    for rel in model._meta.related_objects:
        # Matched by accessor name: that is what the host writes (instance.<accessor>).
        if isinstance(rel, OneToOneRel) and rel.get_accessor_name() == name:
            return Hop(rel)
    return None
