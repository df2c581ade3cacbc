"""Helpers for the backfill, replace and admin tests: the in-process emulator and data."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO
from typing import Any

from django.core.management import call_command

from django_bubblehouse.conf import get_settings
from django_bubblehouse.sync import disable_sync
from django_bubblehouse.testing.emulator import EmulatorConfig, EmulatorState
from django_bubblehouse.testing.pytest_plugin import entity_sets_from_serializers
from tests.testapp.models import Dealer, Order

BASE_URL = "https://bubblehouse.test"
PLACED_AT = dt.datetime(2026, 3, 2, 14, 5, 11, tzinfo=dt.UTC)


@dataclass
class Output:
    out: str
    err: str


def backfill(*args: str, **options: Any) -> Output:
    out, err = StringIO(), StringIO()
    call_command("bubblehouse_backfill", *args, stdout=out, stderr=err, **options)
    return Output(out.getvalue(), err.getvalue())


def new_state() -> EmulatorState:
    conf = get_settings()
    return EmulatorState(
        EmulatorConfig(shop=conf.shop, keys=conf.keys, entity_sets=entity_sets_from_serializers())
    )


@dataclass
class Recorder:
    """A scripted Bubblehouse: replies from ``script`` in order, then 200 ok forever."""

    script: list[Any] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: Any) -> Any:
        self.bodies.append(json.loads(request.body))
        step = self.script.pop(0) if self.script else (200, {"ok": True})
        if isinstance(step, BaseException):
            raise step
        status, body = step
        return status, {}, json.dumps(body)

    def ids(self, key: str) -> list[str]:
        return [row["id"] for body in self.bodies for row in body[key]]


def make_orders(count: int, **fields: Any) -> list[Order]:
    with disable_sync():
        return [
            Order.objects.create(
                **{
                    "number": f"N{Order.objects.count() + 1}",
                    "status": "paid",
                    "placed_at": PLACED_AT,
                    "guest_email": f"guest{index}@example.com",
                    "shipping_total": Decimal("4.90"),
                    **fields,
                }
            )
            for index in range(count)
        ]


def make_dealers(*specs: tuple[str, bool, bool]) -> list[Dealer]:
    """``(code, active, spring_campaign)`` per dealer."""
    with disable_sync():
        return [
            Dealer.objects.create(
                code=code, name=f"Dealer {code}", active=active, spring_campaign=spring
            )
            for code, active, spring in specs
        ]
