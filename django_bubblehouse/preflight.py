"""The preflight: serialize real rows of every registered serializer before the first push.

``manage.py check`` can only look at classes. The commonest mistakes show on
rows: a status missing from ``ORDER_STATUS_MAP``, a ``source=`` that does not
exist, float money, no customer serializer, a ``customer_source`` pointing
nowhere. Each sampled object is serialized as a push would (``serialize_keys``)
and as its delete would be (``serialize_deleted``); every status present in an
order table is also looked up in the map, so a rare one is not missed by the sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import FieldError
from django.db.models import Count

from .conf import SETTINGS_NAME, get_settings
from .exceptions import SerializationError
from .kinds import Kind
from .serializers import OrderStatusField, Serializer
from .serializers.registry import all_serializers


@dataclass
class SerializerReport:
    serializer: type[Serializer]
    sampled: int = 0
    problems: list[str] = field(default_factory=list)


def preflight(sample: int) -> Iterator[SerializerReport]:
    """One report per registered serializer: the newest ``sample`` rows, serialized."""
    for serializer_cls in all_serializers():
        report = SerializerReport(serializer_cls)
        serializer = serializer_cls()
        queryset = serializer.get_queryset().order_by("-pk")
        keys = [str(pk) for pk in queryset.values_list("pk", flat=True)[:sample]]
        report.sampled = len(keys)
        batch = get_settings().batch_size
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            result = serializer.serialize_keys(chunk)
            report.problems.extend(str(error) for error in result.errors.values())
            for obj in queryset.filter(pk__in=chunk):
                try:
                    serializer.serialize_deleted(obj)
                except SerializationError as error:
                    report.problems.append(f"{error} (in its delete payload)")
        if serializer_cls.kind is Kind.ORDERS:
            report.problems.extend(_unmapped_statuses(serializer_cls))
        yield report


def _unmapped_statuses(serializer_cls: type[Serializer]) -> Iterator[str]:
    """Every status value in the table that the map lacks, however rare (one GROUP BY)."""
    status = serializer_cls.declared_fields.get("status")
    if not isinstance(status, OrderStatusField) or not status.source:
        return
    lookup = status.source.replace(".", "__")
    mapped = get_settings().order_status_map
    try:
        rows = serializer_cls.model._default_manager.values_list(lookup).annotate(n=Count("pk"))
    except FieldError:  # a computed status (a property): the sample is all there is
        return
    counts = dict(rows.order_by())
    for value, count in sorted(counts.items(), key=lambda item: str(item[0])):
        if value not in mapped:
            yield (
                f"{serializer_cls.label()}: order status {value!r} ({count} order(s)) is not "
                f"in {SETTINGS_NAME}['ORDER_STATUS_MAP']"
            )
