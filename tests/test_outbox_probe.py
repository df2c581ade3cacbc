"""A pause always probes: the first batch that exists takes the probe; a 401 pauses at once."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxEntry, OutboxState, Pause
from django_bubblehouse.outbox.pause import take_probe
from tests import shop_factories as shop
from tests.delivery_support import answer, reset_outbox
from tests.testapp.bubblehouse import CustomerSerializer

pytestmark = pytest.mark.django_db


def paused_everything(probe_in: float = -1) -> Pause:
    now = timezone.now()
    return Pause.objects.create(
        scope=Pause.ALL,
        reason="token refused",
        status=401,
        probe_at=now + dt.timedelta(seconds=probe_in),
        since=now,
    )


def test_the_probe_is_not_spent_on_a_serializer_with_nothing_due(
    api: responses.RequestsMock,
) -> None:
    # The reproduction from the issue: a shop-wide pause, only a customer row pending, and
    # the order serializer registered (so asked) first.
    customer = shop.customer()
    reset_outbox()
    customer.phone = "+44 1"
    customer.save()
    assert list(OutboxEntry.objects.values_list("kind", flat=True)) == ["customers"]
    paused_everything()

    report = outbox.drain()

    assert [str(c.request.url).rsplit("/", 1)[-1] for c in api.calls] == ["UpdateCustomers3"]
    assert report.sent == 1
    assert not Pause.objects.exists()  # the probe got through: resumed


def test_a_probe_taken_by_another_drain_gives_the_batch_back(api: responses.RequestsMock) -> None:
    shop.customer()
    pause = paused_everything()
    assert take_probe(CustomerSerializer)  # another drain took it a moment ago
    outbox.drain()
    assert len(api.calls) == 0
    assert set(OutboxEntry.objects.values_list("state", flat=True)) == {OutboxState.PENDING}
    assert Pause.objects.get().probe_at > pause.probe_at


def test_a_failed_probe_keeps_the_pause_for_another_cooldown(api: responses.RequestsMock) -> None:
    shop.customer()
    paused_everything()
    answer(api, "UpdateCustomers3", 401, json={"id": "invalid_token"})
    outbox.drain()
    assert len(api.calls) == 1  # one probe, not re-sent: a 401 is final
    assert Pause.objects.get().probe_at > timezone.now()
    outbox.drain()
    assert len(api.calls) == 1
