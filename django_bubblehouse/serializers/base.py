"""The declarative serializer machinery shared by every kind.

:class:`PayloadSerializer` turns an object into a dict from its declared
fields (used for nested parts such as order lines and variants).
:class:`Serializer` adds what a pushed kind needs: its model, the host's
hooks, output validation against the API's rules, and batch loading with a
fixed number of queries.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import DatabaseError
from django.db.models import Model, Q, QuerySet

from ..conf import get_settings
from ..exceptions import SerializationError
from ..fields import Field, FieldError, IdField
from ..fields.base import Getter
from ..kinds import Kind
from ..relations import RelatedWay
from ..validation import Problem, validate
from . import identity, watching
from .loading import load

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
CompiledFields = tuple[tuple[str, Getter], ...]


class PayloadSerializer:
    """Fields declared as class attributes, collected in declaration order (bases first)."""

    declared_fields: ClassVar[dict[str, Field]] = {}
    # Each declared field's value as one function (Field.compiled), built once per class.
    compiled_fields: ClassVar[CompiledFields] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Field] = {}
        for klass in reversed(cls.__mro__):
            declared.update(
                (name, attr) for name, attr in vars(klass).items() if isinstance(attr, Field)
            )
        cls.declared_fields = declared
        cls.compiled_fields = tuple((name, field.compiled()) for name, field in declared.items())

    def to_representation(self, obj: Any) -> Payload:
        """The payload for ``obj``; the one method to override for custom shapes."""
        return self.field_values(obj)

    def represent(self, obj: Any, only: Collection[str] | None = None) -> Payload:
        return self.to_representation(obj) if only is None else self.field_values(obj, only)

    def field_values(self, obj: Any, only: Collection[str] | None = None) -> Payload:
        """Every declared field (or those in ``only``) whose value is not ``None``."""
        payload: Payload = {}
        fields = self.compiled_fields if only is None else _selected(type(self), tuple(only))
        for name, value_of in fields:
            try:
                value = value_of(self, obj)
            except FieldError as error:
                raise error.within(name) from error
            except DatabaseError:
                raise  # the database, not this object, is the problem: the batch must fail
            except Exception as error:
                # A bug in a host's method field must fail this object only, with its path.
                raise FieldError(f"{type(error).__name__}: {error}", name) from error
            if value is not None:
                payload[name] = value
        return payload


_SELECTED: dict[tuple[type[PayloadSerializer], tuple[str, ...]], CompiledFields] = {}


def _selected(cls: type[PayloadSerializer], only: tuple[str, ...]) -> CompiledFields:
    """``cls``'s compiled fields named in ``only`` (a reference's few fields, on every line)."""
    found = _SELECTED.get((cls, only))
    if found is None:
        found = _SELECTED[cls, only] = tuple(
            (name, value_of) for name, value_of in cls.compiled_fields if name in only
        )
    return found


@dataclass
class BatchResult:
    payloads: dict[str, Payload] = field(default_factory=dict)
    errors: dict[str, SerializationError] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


class Serializer(PayloadSerializer):
    """One Bubblehouse kind for one host model; subclass a kind base, not this class."""

    kind: ClassVar[Kind]
    model: ClassVar[type[Model]]
    entity_set: ClassVar[str | None] = None
    parent_set: ClassVar[str | None] = None
    # "app_label.Model" -> how a changed row of that model leads to the serialized objects
    # (a dotted path, a tuple of paths, or None for get_instances_from_related; see relations).
    related: ClassVar[Mapping[str, RelatedWay]] = {}
    m2m_fields: ClassVar[tuple[str, ...]] = ()
    updated_field: ClassVar[str | None] = None
    # The model fields whose change needs a push; None derives them from the fields' sources.
    watched_fields: ClassVar[Collection[str] | None] = None

    id: Field = IdField(source="pk")

    @classmethod
    def label(cls) -> str:
        """The dotted path stored in the outbox to find this serializer again."""
        return f"{cls.__module__}.{cls.__qualname__}"

    def get_queryset(self) -> QuerySet[Any]:
        """Override to add ``select_related``/``prefetch_related`` for batches."""
        return self.model._default_manager.all()

    def should_sync(self, obj: Any) -> bool:
        return True

    def is_deleted(self, obj: Any) -> bool:
        """True sends :meth:`serialize_deleted` instead (soft deletes, set membership)."""
        return False

    def get_instances_from_related(self, related_instance: Model) -> Iterable[Any]:
        """For ``related`` entries mapped to ``None``: the objects (or primary keys) of
        ``model`` that a change to ``related_instance`` must push."""
        raise NotImplementedError(
            f"{self.label()}.related maps {related_instance._meta.label} to None, so it must "
            "define get_instances_from_related()"
        )

    def bubblehouse_id(self, obj: Any) -> str:
        """The id Bubblehouse knows ``obj`` by: the payload's ``id`` (an order number...)."""
        value = self.declared_fields["id"].value(self, obj)
        if value is None:
            raise FieldError("is required, but the object has no id", "id")
        return str(value)

    @classmethod
    def id_lookup(cls) -> str | None:
        """The ORM lookup that finds objects by Bubblehouse id, derived from the ``id`` field's
        source (``"number"``, ``"pk"``); ``None`` when the id is computed. Override for those."""
        return identity.lookup_of(cls.model, cls.declared_fields["id"])

    @classmethod
    def id_filter(cls, ids: Iterable[str]) -> Q:
        """Selects the objects whose Bubblehouse id is one of ``ids`` (unknown ids select none)."""
        return identity.id_filter(cls.model, cls.id_lookup(), cls.label(), ids)

    def keys_for_ids(self, ids: Iterable[str]) -> dict[str, str]:
        """``{Bubblehouse id: internal key}`` for the ids that exist (one query).

        Internal keys (the outbox's, the receivers') are primary keys: a foreign key column
        or an ``m2m_changed`` signal gives them for free. Users only ever see Bubblehouse ids.
        """
        wanted = list(dict.fromkeys(ids))
        lookup = self.id_lookup()
        rows = self.model._default_manager.filter(self.id_filter(wanted))
        found = {str(value): str(pk) for value, pk in rows.values_list(lookup or "pk", "pk")}
        spelled = identity.spellings(self.model, lookup, wanted)
        return {text: found[spelled[text]] for text in wanted if spelled.get(text) in found}

    @classmethod
    def watched(cls) -> frozenset[str] | None:
        """Field names and attnames of ``model`` whose change needs a push (None: any change).

        A save with ``update_fields`` naming none of them (a login's ``last_login``) records
        nothing.
        """
        return watching.watched(cls)

    @classmethod
    def field_sources(cls, name: str, field: Field) -> tuple[str, ...] | None:
        """The dotted sources the declared field ``name`` reads; ``None``: it cannot say."""
        return watching.sources(field)

    def pushed_identity(self, payload: Payload) -> Payload | None:
        """What to keep from a pushed ``payload`` for a later delete (None: nothing).

        The drain stores it on the object's outbox row when the push succeeds, so a
        delete can still be built when related rows are gone by then.
        """
        return None

    def deleted_representation(self, obj: Any) -> Payload:
        """The delete payload; override like :meth:`to_representation`."""
        return {**self.field_values(obj, ("id",)), "deleted": True}

    def serialize(self, obj: Any) -> Payload:
        return self._checked(obj, self.to_representation)

    def serialize_deleted(self, obj: Any) -> Payload:
        return self._checked(obj, self.deleted_representation)

    def serialize_keys(self, keys: Sequence[str]) -> BatchResult:
        """One query set for the whole batch; one object's error never stops the others."""
        with collector_paused():
            loaded = load(self.get_queryset(), keys)
            try:
                return self._serialize_loaded(keys, loaded.objects)
            finally:
                loaded.release()

    def _serialize_loaded(self, keys: Sequence[str], objects: list[Any]) -> BatchResult:
        result = BatchResult()
        rows = {str(obj.pk): obj for obj in objects}
        for key in keys:
            obj = rows.get(key)
            try:
                if obj is None or not self._call(obj, self.should_sync):
                    result.skipped.append(key)
                elif self._call(obj, self.is_deleted):
                    result.payloads[key] = self.serialize_deleted(obj)
                else:
                    result.payloads[key] = self.serialize(obj)
            except SerializationError as error:
                result.errors[key] = error
        return result

    def error(self, obj: Any, message: str, field: str | None = None) -> SerializationError:
        return SerializationError(
            message,
            serializer=self.label(),
            model=self.model._meta.label,
            pk=obj.pk,
            field=field or None,
            object_id=self._id_or_none(obj),
        )

    def _id_or_none(self, obj: Any) -> str | None:
        try:
            return self.bubblehouse_id(obj)
        except Exception:
            return None  # the id itself may be what is broken; the pk still locates the object

    def _call(self, obj: Any, hook: Callable[[Any], Any]) -> Any:
        try:
            return hook(obj)
        except FieldError as error:
            raise self.error(obj, error.message, error.path) from error
        except (DatabaseError, SerializationError):
            raise
        except Exception as error:
            raise self.error(obj, f"{hook.__name__}: {type(error).__name__}: {error}") from error

    def _checked(self, obj: Any, build: Callable[[Any], Payload]) -> Payload:
        payload: Payload = self._call(obj, build)
        problems = validate(self.kind, payload)
        strict = get_settings().debug_mode
        failing = [p for p in problems if strict or not p.warning]
        for problem in problems:
            if problem not in failing:
                logger.warning("%s", self.error(obj, problem.message, problem.path))
        if failing:
            raise self.error(obj, _describe(failing), failing[0].path)
        return payload


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch is built, as Mercurial's ``nogc``.

    A batch allocates tens of thousands of objects (instances, their caches, payloads) that
    all stay alive until it is sent; every few thousand allocations the collector walks them
    again, and now and then walks the whole process: an eighth of a backfill's time,
    measured. Nothing is left for it afterwards: :meth:`.loading.Loaded.release` unties the
    batch's objects, so reference counting frees them. A host that disabled the collector
    keeps it disabled.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def defined_below(cls: type, base: type) -> set[str]:
    """Attribute names that ``cls`` or a class between it and ``base`` defines (overrides)."""
    return {name for klass in cls.__mro__[: cls.__mro__.index(base)] for name in vars(klass)}


def _describe(problems: list[Problem]) -> str:
    first, rest = problems[0], problems[1:]
    if not rest:
        return first.message
    others = "; ".join(f"{p.path or '<payload>'}: {p.message}" for p in rest)
    return f"{first.message} (and {len(rest)} more: {others})"
