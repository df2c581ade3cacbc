"""Checks of ``BUBBLEHOUSE["SERIALIZERS"]`` (E020-E029, W020).

These load each path themselves instead of going through the registry, so
that every broken entry is reported with a hint instead of the first one
raising ``ImproperlyConfigured``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.db.models import ManyToManyField, Model
from django.utils.module_loading import import_string

from .. import conf
from ..kinds import Kind
from ..relations import PathError, parse_path, paths_of
from ..serializers.base import Serializer, defined_below
from .settings import TAG

SETTING = f"{conf.SETTINGS_NAME}['SERIALIZERS']"
KIND_BASES = "OrderSerializer, CustomerSerializer, ProductSerializer, CollectionSerializer or "
KIND_BASES += "EntitySerializer (from django_bubblehouse.serializers)"


@register(TAG)
def check_serializers(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    paths = conf.raw_settings().get("SERIALIZERS", ())
    if not isinstance(paths, list | tuple):
        return []  # a wrong type is reported once, by the settings checks
    messages: list[CheckMessage] = []
    loaded: list[tuple[str, type[Serializer]]] = []
    for path in paths:
        serializer = _load(str(path), messages)
        if serializer is not None:
            messages.extend(_serializer_problems(str(path), serializer))
            loaded.append((str(path), serializer))
    messages.extend(_duplicates(loaded))
    messages.extend(_status_map(loaded))
    return messages


def _load(path: str, messages: list[CheckMessage]) -> type[Serializer] | None:
    try:
        found = import_string(path)
    except ImportError as error:
        messages.append(
            Error(
                f"{SETTING} entry {path!r} cannot be imported: {error}",
                hint='Use the dotted path of a class, like "shop.bubblehouse.OrderSerializer".',
                id="bubblehouse.E020",
            )
        )
        return None
    if isinstance(found, type) and issubclass(found, Serializer) and hasattr(found, "kind"):
        return found
    messages.append(
        Error(
            f"{SETTING} entry {path!r} is not a serializer of one Bubblehouse kind.",
            hint=f"Subclass {KIND_BASES}.",
            id="bubblehouse.E021",
        )
    )
    return None


def _serializer_problems(path: str, serializer: type[Serializer]) -> Iterator[CheckMessage]:
    model = getattr(serializer, "model", None)
    if model is None:
        yield Error(
            f"{path} has no model.",
            hint="Set model = <the Django model it serializes> on the class.",
            id="bubblehouse.E022",
        )
    elif not _installed(model):
        yield Error(
            f"{path}.model {model.__qualname__} is not a model of an installed app.",
            hint="Add its app to INSTALLED_APPS, or serialize a concrete, installed model.",
            id="bubblehouse.E023",
        )
    else:
        yield from _relation_problems(path, serializer, model)
    if serializer.kind is Kind.ENTITIES and not serializer.entity_set:
        yield Error(
            f"{path} has no entity_set.",
            hint='Set entity_set = "<API name of the entity set>" (sets are made by Bubblehouse).',
            id="bubblehouse.E025",
        )
    elif serializer.parent_set and serializer.parent_set == serializer.entity_set:
        yield Error(
            f"{path}.parent_set names its own entity set {serializer.parent_set!r}.",
            hint="parent_set is the primary set a secondary set belongs to; omit it for a "
            "primary set.",
            id="bubblehouse.E029",
        )


def _relation_problems(
    path: str, serializer: type[Serializer], model: type[Model]
) -> Iterator[CheckMessage]:
    for label, way in serializer.related.items():
        for problem in _related_problems(serializer, label, way, model):
            yield Error(
                f"{path}.related[{label!r}]: {problem}.",
                hint='Map "app_label.Model" to a dotted path of foreign keys (or one-to-ones, '
                "or reverse accessors of one-to-ones) from that model to the serialized one "
                '(e.g. {"shop.StockRecord": ("product", "product.parent")}), or to None and '
                "define get_instances_from_related().",
                id="bubblehouse.E026",
            )
    for name in serializer.m2m_fields:
        if not isinstance(_field(model, name), ManyToManyField):
            yield Error(
                f"{path}.m2m_fields entry {name!r} is not a ManyToManyField of "
                f"{model._meta.label}.",
                hint="List the model's own many-to-many fields whose changes should push it.",
                id="bubblehouse.E027",
            )
    updated = serializer.updated_field
    field = _field(model, updated) if updated else None
    if updated and not (field is not None and field.concrete):
        yield Error(
            f"{path}.updated_field {updated!r} is not a field of {model._meta.label}.",
            hint="Name the model's last-modified timestamp (e.g. updated_at), or leave it None.",
            id="bubblehouse.E028",
        )


def _duplicates(loaded: list[tuple[str, type[Serializer]]]) -> Iterator[CheckMessage]:
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for path, serializer in loaded:
        model = getattr(serializer, "model", None)
        if model is not None:
            target = serializer.entity_set if serializer.kind is Kind.ENTITIES else None
            groups[(model._meta.concrete_model, serializer.kind, target)].append(path)
    for (model, kind, target), paths in groups.items():
        if len(paths) > 1:
            what = f"entity set {target!r}" if target else f"kind {kind}"
            yield Error(
                f"{' and '.join(paths)} all serialize {model._meta.label} for {what}.",
                hint="Register one serializer per model and kind (per entity set for entities).",
                id="bubblehouse.E024",
            )


def _status_map(loaded: list[tuple[str, type[Serializer]]]) -> Iterator[CheckMessage]:
    has_orders = any(serializer.kind is Kind.ORDERS for _, serializer in loaded)
    if has_orders and not conf.raw_settings().get("ORDER_STATUS_MAP"):
        yield Warning(
            f"An order serializer is registered but {conf.SETTINGS_NAME}['ORDER_STATUS_MAP'] "
            "is empty, so every order will fail to serialize.",
            hint='Map each shop status to a Bubblehouse one, e.g. {"paid": "confirmed"}.',
            id="bubblehouse.W020",
        )


def _installed(model: Any) -> bool:
    if not (isinstance(model, type) and issubclass(model, Model)):
        return False
    try:
        return apps.get_model(model._meta.label) is model
    except LookupError:
        return False


def _field(model: type[Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _related_problems(
    serializer: type[Serializer], label: str, way: Any, model: type[Model]
) -> Iterator[str]:
    try:
        related = apps.get_model(label)
    except (LookupError, ValueError):
        yield f"{label!r} is not an installed model"
        return
    if way is None:
        if "get_instances_from_related" not in defined_below(serializer, Serializer):
            yield "None asks get_instances_from_related(), which the serializer does not define"
        return
    if not (isinstance(way, str) or (isinstance(way, list | tuple) and way)) or not all(
        isinstance(p, str) for p in paths_of(way)
    ):
        yield f"{way!r} is neither a dotted path, a tuple of paths, nor None"
        return
    for path in paths_of(way):
        try:
            parse_path(related, path, model)
        except PathError as error:
            yield str(error)
