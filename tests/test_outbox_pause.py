"""The circuit breaker: configuration errors pause a scope; a probe resumes it."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxState, Pause
from tests import shop_factories as shop
from tests.delivery_support import answer, bodies, entry, pushed_ids
from tests.testapp.bubblehouse import DealerSerializer
from tests.testapp.models import Dealer

pytestmark = pytest.mark.django_db


def probe_due() -> None:
    Pause.objects.update(probe_at=timezone.now() - dt.timedelta(seconds=1))


def test_refused_token_pauses_everything_then_a_probe_resumes(
    api: responses.RequestsMock,
) -> None:
    order = shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 401, json={"id": "invalid_token"})
    answer(api, "UpdateCustomers3", 401, json={"id": "invalid_token"})
    report = outbox.drain()
    pause = Pause.objects.get()
    assert (pause.scope, pause.status, pause.error_id) == ("*", 401, "invalid_token")
    assert "token refused" in pause.reason
    assert report.paused == ["*"]
    row = entry(order.pk)
    assert (row.state, row.attempts, row.last_status) == (OutboxState.PENDING, 0, 401)
    calls = len(api.calls)

    outbox.drain()  # paused, cooldown not over: nothing leaves
    assert len(api.calls) == calls

    probe_due()
    outbox.drain()  # the probe fails again: still paused, one batch tried, probe moved on
    assert len(api.calls) == calls + 1  # one request: a 401 is not re-sent
    still = Pause.objects.get()
    assert still.probe_at > timezone.now()
    assert still.since == pause.since

    answer(api, "UpdateOrders4", 200, json={"ok": True})
    answer(api, "UpdateCustomers3", 200, json={"ok": True})
    probe_due()
    outbox.drain()
    assert not Pause.objects.exists()
    assert entry(order.pk).state == OutboxState.SENT
    assert str(order.pk) in pushed_ids(api)


def test_api_version_error_pauses(api: responses.RequestsMock) -> None:
    shop.order(customer=shop.customer())
    answer(api, "UpdateCustomers3", 400, json={"id": "obsolete_global_api_version"})
    answer(api, "UpdateOrders4", 400, json={"id": "obsolete_global_api_version"})
    outbox.drain()
    assert Pause.objects.get().error_id == "obsolete_global_api_version"


def test_unknown_entity_set_pauses_only_that_set(api: responses.RequestsMock) -> None:
    dealer = Dealer.objects.create(code="D1", name="Dealer One")
    order = shop.order(customer=shop.customer())
    answer(api, "UpdateEntities1", 400, json={"id": "entity_set_not_found"})
    outbox.drain()
    assert set(Pause.objects.values_list("scope", flat=True)) >= {"entity_set:authorized-dealers"}
    assert "*" not in set(Pause.objects.values_list("scope", flat=True))
    assert entry(order.pk).state == OutboxState.SENT
    assert entry(dealer.pk, DealerSerializer.label()).state == OutboxState.PENDING


def test_manual_resume(api: responses.RequestsMock) -> None:
    order = shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 401, json={"id": "invalid_token"})
    answer(api, "UpdateCustomers3", 401, json={"id": "invalid_token"})
    outbox.drain()
    answer(api, "UpdateOrders4", 200, json={"ok": True})
    answer(api, "UpdateCustomers3", 200, json={"ok": True})
    assert outbox.resume() == 1
    outbox.drain()
    assert entry(order.pk).state == OutboxState.SENT
    assert len(bodies(api)) >= 2
