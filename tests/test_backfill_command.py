"""bubblehouse_backfill: what gets selected and sent, dry runs and summaries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError

from django_bubblehouse.models import BackfillRun, OutboxEntry
from django_bubblehouse.serializers import Serializer
from django_bubblehouse.sync import disable_sync
from django_bubblehouse.testing.emulator import EmulatorState
from tests.backfill_support import backfill, make_dealers, make_orders
from tests.bubblehouse_overrides import with_serializers
from tests.testapp.bubblehouse import CustomerSerializer
from tests.testapp.models import Collection, Customer, Order

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


class GmailOnlySerializer(CustomerSerializer):
    def should_sync(self, obj: Customer) -> bool:
        return obj.email.endswith("@gmail.com")


def sent_ids(state: EmulatorState, call: str, key: str) -> list[str]:
    return [row["id"] for request in state.calls(call) for row in request.body[key]]


def test_no_kinds_backfills_every_kind(emulator: EmulatorState) -> None:
    orders = make_orders(2)
    make_dealers(("d1", True, True))
    with disable_sync():
        Customer.objects.create(email="a@example.com")
        Collection.objects.create(title="Shoes", slug="shoes")

    output = backfill(no_progress=True)

    assert sorted(sent_ids(emulator, "UpdateOrders4", "orders")) == sorted(
        str(o.pk) for o in orders
    )
    assert len(emulator.calls("UpdateCustomers3")) == 1
    assert len(emulator.entities("authorized-dealers")) == 1
    assert len(emulator.entities("spring-cleaning-eligible-dealers")) == 1
    assert "failed 0" in output.out
    assert BackfillRun.objects.get().status == BackfillRun.Status.DONE


def test_named_kind_only(emulator: EmulatorState) -> None:
    make_orders(1)
    with disable_sync():
        Customer.objects.create(email="a@example.com")

    backfill("customers", no_progress=True)

    assert emulator.calls("UpdateOrders4") == []
    assert len(emulator.calls("UpdateCustomers3")) == 1


def test_one_request_per_batch(emulator: EmulatorState) -> None:
    make_orders(5)

    backfill("orders", batch_size=2, no_progress=True)

    assert [len(r.body["orders"]) for r in emulator.calls("UpdateOrders4")] == [2, 2, 1]


def test_batch_size_defaults_to_setting(emulator: EmulatorState, settings) -> None:
    settings.BUBBLEHOUSE = {**settings.BUBBLEHOUSE, "BATCH_SIZE": 3}
    make_orders(4)

    backfill("orders", no_progress=True)

    assert [len(r.body["orders"]) for r in emulator.calls("UpdateOrders4")] == [3, 1]


def test_since_and_until_filter_on_updated_field(emulator: EmulatorState) -> None:
    old, inside, late = make_orders(3)
    for order, moment in (
        (old, NOW - dt.timedelta(days=9)),
        (inside, NOW),
        (late, NOW + dt.timedelta(days=9)),
    ):
        Order.objects.filter(pk=order.pk).update(updated_at=moment)

    backfill("orders", since="2026-04-30", until="2026-05-02T00:00:00Z", no_progress=True)

    assert sent_ids(emulator, "UpdateOrders4", "orders") == [str(inside.pk)]


def test_since_needs_an_updated_field(emulator: EmulatorState) -> None:
    with pytest.raises(CommandError, match="CollectionSerializer declares no updated_field"):
        backfill("collections", since="2026-01-01")
    assert emulator.requests == []


def test_bad_date_is_a_usage_error() -> None:
    with pytest.raises(CommandError, match="since"):
        backfill("orders", "--since", "yesterday-ish")


def test_bad_date_passed_as_an_option_names_the_option() -> None:
    with pytest.raises(CommandError, match="--until '2026-02-30' is not an ISO date"):
        backfill("orders", until="2026-02-30")


def test_ids_select_those_keys(emulator: EmulatorState) -> None:
    first, _, third = make_orders(3)

    backfill("orders", ids=[f"{first.pk},{third.pk}"], no_progress=True)

    assert sorted(sent_ids(emulator, "UpdateOrders4", "orders")) == sorted(
        [str(first.pk), str(third.pk)]
    )


def test_ids_need_a_single_model() -> None:
    with pytest.raises(CommandError, match="--ids needs a single kind"):
        backfill("orders", "customers", ids=["1"])


def test_invalid_id_is_reported() -> None:
    with pytest.raises(CommandError, match=r"no testapp\.Order has the Bubblehouse id 'abc'"):
        backfill("orders", ids=["abc"])


@with_serializers(GmailOnlySerializer.label())
def test_should_sync_false_is_skipped(emulator: EmulatorState) -> None:
    with disable_sync():
        Customer.objects.create(email="a@gmail.com")
        Customer.objects.create(email="b@example.com")

    output = backfill("customers", no_progress=True)

    assert [r["email"] for r in emulator.calls("UpdateCustomers3")[0].body["customers"]] == [
        "a@gmail.com"
    ]
    assert "sent 1, skipped 1, failed 0" in output.out


def test_dry_run_sends_nothing_and_shows_samples(emulator: EmulatorState) -> None:
    orders = make_orders(3)
    make_dealers(("d1", True, False))

    output = backfill("orders", "entities", dry_run=True, no_progress=True)

    assert emulator.requests == []
    assert "OrderSerializer: would send 3, skip 0, fail 0" in output.out
    assert "EligibleDealerSerializer: would send 1" in output.out
    assert "Dry run: nothing was sent." in output.out
    # One sample per kind: the first order and the first dealer (not the eligible-set one).
    assert output.out.count("Sample orders payload:") == 1
    assert output.out.count("Sample entities payload:") == 1
    sample = output.out.split("Sample orders payload:\n", 1)[1]
    assert json.loads(sample[: sample.index("\n}") + 2])["id"] == str(orders[0].pk)
    assert BackfillRun.objects.count() == 0
    assert OutboxEntry.objects.count() == 0


def test_dry_run_reports_serialization_errors(emulator: EmulatorState) -> None:
    make_orders(1)
    make_orders(1, status="on_hold")

    with pytest.raises(CommandError, match="1 object\\(s\\) would fail"):
        backfill("orders", dry_run=True, no_progress=True)

    assert emulator.requests == []
    assert OutboxEntry.objects.count() == 0


def test_registered_serializers_are_all_known() -> None:
    # Guards the fixtures above: every test serializer is a real Serializer.
    assert issubclass(GmailOnlySerializer, Serializer)


def test_unknown_kind_is_a_usage_error() -> None:
    with pytest.raises(CommandError, match="unknown kind"):
        backfill("invoices")
