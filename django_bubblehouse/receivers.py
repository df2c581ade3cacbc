"""Model signal receivers that turn host saves, deletes and M2M changes into outbox rows.

Connected once, for every sender, with a ``dispatch_uid``; which serializers
care about a model is looked up once per model class and cached, so a save of
a model nobody serializes costs one dict lookup. Failures never reach the
host's save: they are logged and left in the outbox as failed rows, unless
``STRICT`` asks for them to be raised.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.core.signals import setting_changed
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from .conf import SETTINGS_NAME, get_settings
from .interests import interest_in, nulled_by_delete, watches
from .outbox import mark_dirty
from .outbox.failures import record_failures
from .outbox.record import mark_deleted
from .serializers import Serializer
from .serializers.registry import serializers_for_m2m_through
from .sync import sync_enabled

logger = logging.getLogger("django_bubblehouse")

M2M_ACTIONS = frozenset({"post_add", "post_remove", "pre_clear"})

_m2m_interests: dict[type[Model], tuple[tuple[type[Serializer], str], ...]] = {}


def _m2m_interest_in(through: type[Model]) -> tuple[tuple[type[Serializer], str], ...]:
    if through not in _m2m_interests:
        _m2m_interests[through] = tuple(serializers_for_m2m_through(through))
    return _m2m_interests[through]


def _forget_interests(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        _m2m_interests.clear()


def _guarded(
    serializer_cls: type[Serializer],
    keys: list[str],
    record: Callable[..., object],
    *args: Any,
) -> None:
    """Call ``record(serializer_cls, *args)``; a failure is logged and kept as a failed row
    instead of breaking the host's save."""
    try:
        record(serializer_cls, *args)
    except Exception as error:
        if get_settings().strict:
            raise
        logger.exception(
            "Bubblehouse could not record a change for %s keys %s",
            serializer_cls.label(),
            ", ".join(keys[:10]) or "(unknown)",
        )
        if not keys:
            return
        try:
            record_failures(serializer_cls, dict.fromkeys(keys, error))
        except Exception:
            logger.exception("Bubblehouse could not record the failure either")


def record(found: Mapping[type[Serializer], list[str]], *, check_sync: bool = True) -> int:
    """Mark ``found`` dirty, serializer by serializer; returns the keys recorded."""
    recorded = 0
    for serializer_cls, keys in found.items():
        if keys and (not check_sync or sync_enabled(serializer_cls.model)):
            _guarded(serializer_cls, keys, mark_dirty, keys)
            recorded += len(set(keys))
    return recorded


def _never_raises(receiver: Callable[..., None]) -> Callable[..., None]:
    """Anything failing before recording (a broken SERIALIZERS entry...) is logged, not raised."""

    @functools.wraps(receiver)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            if get_settings().strict:
                raise
            logger.exception("Bubblehouse receiver %s failed", receiver.__name__)

    return guarded


@_never_raises
def on_save(sender: type[Model], instance: Model, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata: fixtures describe existing state, not changes to push
        return
    interest = interest_in(sender)
    if interest is None or not sync_enabled(sender):
        return
    changed = kwargs.get("update_fields")
    for serializer_cls, watched in interest.own:
        # A save of fields the serializer never reads (a login's last_login) changes nothing.
        if changed is None or watches(watched, changed):
            key = str(instance.pk)
            _guarded(serializer_cls, [key], mark_dirty, [key])
    record(interest.parent_keys(instance, kwargs.get("using"), changed))


@_never_raises
def on_delete(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    interest = interest_in(sender)
    if interest is None or not sync_enabled(sender):
        return
    for serializer_cls, _ in interest.own:
        key = str(instance.pk)
        _guarded(serializer_cls, [key], _record_delete, key, instance)
    record(interest.parent_keys(instance, kwargs.get("using")))


@_never_raises
def on_pre_delete(sender: type[Model], instance: Model, using: str, **kwargs: Any) -> None:
    """Rows that the delete will rewrite with ``SET_NULL`` (an order of a deleted user)
    get no signal of their own: record them while they still point at ``instance``."""
    for field in nulled_by_delete(sender):
        # The base manager, as the delete's collector: a default manager that hides rows
        # (soft-deleted ones) would hide rows the delete still rewrites.
        rows = field.model._base_manager.db_manager(using).filter(**{field.name: instance})
        interest = interest_in(field.model)
        if interest is not None and sync_enabled(field.model):
            record(interest.queryset_keys(rows))


def _record_delete(serializer_cls: type[Serializer], key: str, instance: Model) -> None:
    serializer = serializer_cls()
    if serializer.should_sync(instance):
        mark_deleted(serializer_cls, key, serializer.serialize_deleted(instance))


@_never_raises
def on_m2m_changed(
    sender: type[Model],
    instance: Model,
    action: str,
    pk_set: set[Any] | None,
    using: str,
    **kwargs: Any,
) -> None:
    if action not in M2M_ACTIONS:
        return
    for serializer_cls, _field in _m2m_interest_in(sender):
        if sync_enabled(serializer_cls.model):
            _guarded(serializer_cls, [], _record_m2m, sender, instance, action, pk_set, using)


def _record_m2m(
    serializer_cls: type[Serializer],
    through: type[Model],
    instance: Model,
    action: str,
    pk_set: set[Any] | None,
    using: str,
) -> None:
    if isinstance(instance, serializer_cls.model):
        keys = [str(instance.pk)]
    elif action == "pre_clear":  # the signal names no members: read them before they go
        keys = _members(through, instance, serializer_cls.model, using)
    else:
        keys = [str(pk) for pk in pk_set or ()]
    mark_dirty(serializer_cls, keys)


def _members(through: type[Model], instance: Model, target: type[Model], using: str) -> list[str]:
    """Keys of the ``target`` objects linked to ``instance`` through ``through``."""
    source_fk = target_fk = None
    for field in through._meta.fields:
        remote = field.related_model
        if remote is not None and isinstance(instance, remote):
            source_fk = field
        elif remote is not None and issubclass(target, remote):
            target_fk = field
    if source_fk is None or target_fk is None:
        return []
    members = through._default_manager.using(using).filter(**{source_fk.name: instance.pk})
    return [str(pk) for pk in members.values_list(target_fk.attname, flat=True)]


def connect() -> None:
    """Connect the receivers (idempotent); called from ``AppConfig.ready``."""
    post_save.connect(on_save, dispatch_uid="django_bubblehouse.post_save")
    post_delete.connect(on_delete, dispatch_uid="django_bubblehouse.post_delete")
    pre_delete.connect(on_pre_delete, dispatch_uid="django_bubblehouse.pre_delete")
    m2m_changed.connect(on_m2m_changed, dispatch_uid="django_bubblehouse.m2m_changed")
    setting_changed.connect(_forget_interests, dispatch_uid="django_bubblehouse.m2m_interests")
