"""Entity serializers through the outbox: primary and secondary sets, membership removal."""

from __future__ import annotations

import pytest

from django_bubblehouse import outbox
from django_bubblehouse.outbox import wakeup
from django_bubblehouse.testing.emulator import EmulatorState
from tests.testapp.models import Dealer

pytestmark = pytest.mark.django_db(transaction=True)

PRIMARY = "authorized-dealers"
SECONDARY = "spring-cleaning-eligible-dealers"


def drain() -> None:
    # Real commits: the wake-up's own (synchronous) drain runs on the waker thread; let it end.
    assert wakeup.flush(30)
    outbox.drain()


def ids(state: EmulatorState, entity_set: str) -> list[str]:
    return sorted(entity["id"] for entity in state.entities(entity_set))


def test_changes_reach_both_sets_and_membership_is_removed(emulator: EmulatorState) -> None:
    dealer = Dealer.objects.create(code="d1", name="Walmart", spring_campaign=True)
    Dealer.objects.create(code="d2", name="Target")
    drain()
    assert ids(emulator, PRIMARY) == ["d1", "d2"]
    assert ids(emulator, SECONDARY) == ["d1"]

    dealer.spring_campaign = False
    dealer.save()
    drain()

    assert ids(emulator, SECONDARY) == []  # left the campaign...
    assert ids(emulator, PRIMARY) == ["d1", "d2"]  # ...but is still an authorized dealer


def test_deactivated_dealer_is_deleted_from_the_primary_set(emulator: EmulatorState) -> None:
    dealer = Dealer.objects.create(code="d1", name="Walmart", spring_campaign=True)
    drain()

    dealer.active = False
    dealer.save()
    drain()

    assert ids(emulator, PRIMARY) == []
    assert ids(emulator, SECONDARY) == []
    secondary_rows = [
        row
        for request in emulator.calls("UpdateEntities1")
        if request.body["entity_set"] == SECONDARY
        for row in request.body["entities"]
    ]
    assert secondary_rows[-1] == {"id": "d1", "deleted": True}
