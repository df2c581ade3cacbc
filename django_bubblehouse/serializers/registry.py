"""Which registered serializer serves which model (from ``BUBBLEHOUSE["SERIALIZERS"]``).

Loaded on first use, not at import time, and forgotten when the setting
changes, so ``override_settings`` works. A broken entry raises
``ImproperlyConfigured`` here; the system checks report it with a hint first.
"""

from __future__ import annotations

import functools
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db.models import ManyToManyField, Model
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..conf import SETTINGS_NAME, get_settings
from ..relations import RelatedWay
from .base import Serializer


@functools.cache
def all_serializers() -> tuple[type[Serializer], ...]:
    found = []
    for path in get_settings().serializers:
        try:
            serializer = import_string(path)
        except ImportError as error:
            raise ImproperlyConfigured(f"{SETTINGS_NAME}['SERIALIZERS']: {error}") from error
        if not (isinstance(serializer, type) and issubclass(serializer, Serializer)):
            raise ImproperlyConfigured(
                f"{SETTINGS_NAME}['SERIALIZERS']: {path} is not a Serializer subclass"
            )
        found.append(serializer)
    return tuple(found)


def get_serializer(label: str) -> type[Serializer]:
    """The registered serializer with this :meth:`~Serializer.label`; ``LookupError`` if none."""
    for serializer in all_serializers():
        if serializer.label() == label:
            return serializer
    raise LookupError(f"no registered serializer is labelled {label!r}")


def _concrete(model: type[Model]) -> type[Model]:
    # Signals from a proxy model name the proxy; serializers name the concrete model.
    return model._meta.concrete_model or model


def serializers_for_model(model: type[Model]) -> list[type[Serializer]]:
    wanted = _concrete(model)
    return [s for s in all_serializers() if _concrete(s.model) is wanted]


def serializers_for_related(model: type[Model]) -> list[tuple[type[Serializer], RelatedWay]]:
    """``(serializer, way)`` for each serializer whose ``related`` names ``model``."""
    wanted = _concrete(model)
    return [
        (serializer, way)
        for serializer in all_serializers()
        for label, way in serializer.related.items()
        if _concrete(apps.get_model(label)) is wanted
    ]


def serializers_for_through_rows(model: type[Model]) -> list[tuple[type[Serializer], str]]:
    """``(serializer, FK name)`` for each ``m2m_fields`` entry whose through model is ``model``.

    A row written directly on an explicit through model (``ProductCategory.objects.create()``)
    fires ``post_save``/``post_delete``, not ``m2m_changed``: the FK named here leads to
    the owner to push.
    """
    wanted = _concrete(model)
    return [
        (serializer, _m2m_field(serializer.model, name).m2m_field_name())
        for serializer in all_serializers()
        for name in serializer.m2m_fields
        if _concrete(_m2m_through(serializer.model, name)) is wanted
    ]


def serializers_for_m2m_through(through: type[Model]) -> list[tuple[type[Serializer], str]]:
    """``(serializer, M2M field name)`` for each ``m2m_fields`` entry using ``through``."""
    return [
        (serializer, name)
        for serializer in all_serializers()
        for name in serializer.m2m_fields
        if _m2m_through(serializer.model, name) is through
    ]


def _m2m_field(model: type[Model], name: str) -> ManyToManyField[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, ManyToManyField):  # reported by check bubblehouse.E027
        raise ImproperlyConfigured(f"{model._meta.label}.{name} is not a many-to-many field")
    return field


def _m2m_through(model: type[Model], name: str) -> Any:
    return _m2m_field(model, name).remote_field.through


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        all_serializers.cache_clear()
