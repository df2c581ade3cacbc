"""What every field shares: reading ``source``, omitting empty values, locating errors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Protocol

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Manager, Model, QuerySet
from django.db.models.fields.related_descriptors import (
    ForeignKeyDeferredAttribute,
    ForwardManyToOneDescriptor,
    ForwardOneToOneDescriptor,
)
from django.db.models.query_utils import DeferredAttribute

EMPTY_VALUES: tuple[object, ...] = ("", [], {})


class Representer(Protocol):
    """What a field needs of a serializer (the one it is declared on, or the one it nests):
    fields know nothing else of serializers, so ``fields`` does not depend on them."""

    def represent(self, obj: Any, only: Collection[str] | None = None) -> dict[str, Any]: ...


Getter = Callable[[Representer, Any], Any]


class FieldError(Exception):
    """A value that cannot become valid JSON for Bubblehouse; ``path`` locates it."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def within(self, segment: str) -> FieldError:
        """The same error seen from the parent: ``segment`` is a key or ``[index]``."""
        if not self.path:
            path = segment
        elif self.path.startswith("["):
            path = segment + self.path
        else:
            path = f"{segment}.{self.path}"
        return FieldError(self.message, path)


def resolve(obj: Any, source: str) -> Any:
    """Follow a dotted path through attributes, dict keys and zero-argument callables.

    A missing related object (``None`` midway, or a reverse one-to-one that does
    not exist) resolves to ``None``, so an optional field is simply omitted.
    """
    return reader(source)(obj)


@functools.cache
def reader(source: str) -> Callable[[Any], Any]:
    """:func:`resolve` for one ``source``, as one function built once."""
    if source == "*":
        return _itself
    steps = tuple(_step(part) for part in source.split("."))
    if len(steps) == 1:
        return steps[0]

    def read(obj: Any) -> Any:
        for step in steps:
            if obj is None:
                return None
            obj = step(obj)
        return obj

    return read


def _itself(obj: Any) -> Any:
    return obj


def _step(part: str) -> Callable[[Any], Any]:
    """One step of a path. On a model, a plain column (or ``pk``) is the instance's own
    ``__dict__`` entry and a loaded foreign key the object in its field cache: what the
    descriptor would return, without the generic attribute walk (most of a payload's
    values are such columns and hops)."""
    stores: dict[type, tuple[bool, str] | None] = {}

    def step(obj: Any) -> Any:
        kind = type(obj)
        try:
            store = stores[kind]
        except KeyError:
            store = stores[kind] = _store(kind, part)
        if store is not None:
            column, name = store
            found = (obj.__dict__ if column else obj._state.fields_cache).get(name, _MISSING)
            if found is not _MISSING:
                return found
            # A deferred column or a relation not loaded yet: its descriptor loads it.
        return _attribute(obj, part)

    return step


_MISSING = object()


def _store(kind: type, part: str) -> tuple[bool, str] | None:
    """Where a model instance keeps ``part``: ``(True, attname)`` for a column in its
    ``__dict__``, ``(False, cache name)`` for a forward foreign key's related object."""
    if not issubclass(kind, Model):
        return None
    name = kind._meta.pk.attname if part == "pk" else part
    descriptor = getattr(kind, name, None)
    if type(descriptor) in (DeferredAttribute, ForeignKeyDeferredAttribute):
        return True, name
    # Exactly Django's descriptors: a subclass may read its object in another way.
    plain = type(descriptor) in (ForwardManyToOneDescriptor, ForwardOneToOneDescriptor)
    if plain and isinstance(descriptor, ForwardManyToOneDescriptor):
        return False, descriptor.field.cache_name
    return None


def _attribute(obj: Any, part: str) -> Any:
    try:
        # Model first: most steps are model attributes, and the Mapping ABC check is slow.
        if isinstance(obj, Model):
            prefetched = obj.__dict__.get("_prefetched_objects_cache")
            if prefetched is not None and part in prefetched:
                # What the related manager's all() returns, without building the manager.
                return prefetched[part]
            value = getattr(obj, part)
        elif isinstance(obj, Mapping):
            value = obj.get(part)
        else:
            value = getattr(obj, part)
        # Related managers are callable (``.lines(manager=...)``) but mean "the rows".
        if callable(value) and not isinstance(value, Manager):
            value = value()
    except ObjectDoesNotExist:
        return None
    return value


def iterate(value: Any) -> Iterable[Any]:
    """A list-ish value; a related manager means its (possibly prefetched) ``.all()``."""
    if type(value) is list or isinstance(value, QuerySet):  # the common cases, checked first
        return value
    if isinstance(value, Manager):
        return value.all()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise FieldError(f"must be a list of values, got {type(value).__name__}")
    return value


class Field:
    """Passes its value through unchanged; subclasses convert in :meth:`convert`.

    ``source`` defaults to the attribute name the field is declared under.
    ``required=True`` turns a missing value into an error instead of an
    omitted key; ``omit_empty=True`` also omits ``""``, ``[]`` and ``{}``.
    """

    omit_empty_default = False

    def __init__(
        self, source: str | None = None, *, required: bool = False, omit_empty: bool | None = None
    ) -> None:
        self.source = source
        self.required = required
        self.omit_empty = self.omit_empty_default if omit_empty is None else omit_empty
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.source is None:
            self.source = name

    def compiled(self) -> Getter:
        """:meth:`value` as one function, for a serializer to call once per object.

        Unless a field class overrides :meth:`value` itself, the function reads the
        source directly (or through an overridden :meth:`get_attribute`) and converts,
        without dispatching through three methods for every value.
        """
        kind = type(self)
        if kind.value is not Field.value:
            return self.value
        required, omit_empty = self.required, self.omit_empty
        missing = self.missing
        read = self.get_attribute if kind.get_attribute is not Field.get_attribute else None
        source = reader(self.source or "*")
        build = self.build
        convert = self.convert if kind.build is Field.build else None

        def value(serializer: Representer, obj: Any) -> Any:
            raw = source(obj) if read is None else read(serializer, obj)
            if raw is None:
                if required:
                    raise missing()
                return None
            result = convert(raw) if convert is not None else build(serializer, raw)
            if omit_empty and not result and result in EMPTY_VALUES:
                return None
            return result

        return value

    def value(self, serializer: Representer, obj: Any) -> Any:
        """The JSON value for ``obj``, or ``None`` to omit the key."""
        raw = self.get_attribute(serializer, obj)
        if raw is None:
            if self.required:
                raise self.missing()
            return None
        result = self.build(serializer, raw)
        if self.omit_empty and result in EMPTY_VALUES:
            return None
        return result

    def missing(self) -> FieldError:
        return FieldError(f"is required, but {self.source or 'the value'} is None")

    def get_attribute(self, serializer: Representer, obj: Any) -> Any:
        # An unbound field (a list's child) reads the element itself.
        return resolve(obj, self.source or "*")

    def build(self, serializer: Representer, raw: Any) -> Any:
        return self.convert(raw)

    def convert(self, value: Any) -> Any:
        return value
