"""Entities: the seed's examples as golden payloads, primary and secondary sets."""

from __future__ import annotations

from typing import Any

import pytest

from django_bubblehouse.kinds import Kind
from django_bubblehouse.validation import validate
from tests.testapp.bubblehouse import DealerSerializer, EligibleDealerSerializer
from tests.testapp.models import Dealer

pytestmark = pytest.mark.django_db


def entities(serializer: Any, *dealers: Dealer) -> list[dict[str, Any]]:
    result = serializer().serialize_keys([str(d.pk) for d in dealers])
    assert result.errors == {}
    return list(result.payloads.values())


def test_creating_authorized_dealers_matches_the_seed() -> None:
    walmart = Dealer.objects.create(
        code="dealer-001", name="Walmart", alt_names=["Wal-Mart", "Walmart Supercenter"]
    )
    target = Dealer.objects.create(code="dealer-002", name="Target", alt_names=["Target Store"])
    assert entities(DealerSerializer, walmart, target) == [
        {"alt_titles": ["Wal-Mart", "Walmart Supercenter"], "id": "dealer-001", "title": "Walmart"},
        {"alt_titles": ["Target Store"], "id": "dealer-002", "title": "Target"},
    ]


def test_market_filtered_entities_match_the_seed() -> None:
    tesco = Dealer.objects.create(code="dealer-uk-001", name="Tesco", markets=["en-GB"])
    kroger = Dealer.objects.create(code="dealer-us-001", name="Kroger", markets=["en-US"])
    assert entities(DealerSerializer, tesco, kroger) == [
        {"id": "dealer-uk-001", "markets": ["en-GB"], "title": "Tesco"},
        {"id": "dealer-us-001", "markets": ["en-US"], "title": "Kroger"},
    ]


def test_localized_titles_match_the_seed() -> None:
    localizations = {
        "de-DE": {"alt_titles": ["GM Deutschland"], "title": "Global Markt"},
        "en-GB": {"alt_titles": ["GM UK"], "title": "Global Mart UK"},
    }
    mart = Dealer.objects.create(
        code="dealer-global-001", name="Global Mart", localized_names=localizations
    )
    payload = DealerSerializer().serialize(mart)
    assert payload == {
        "id": "dealer-global-001",
        "localizations": localizations,
        "title": "Global Mart",
    }
    assert validate(Kind.ENTITIES, payload) == []


def test_bhid_is_sent_when_known() -> None:
    dealer = Dealer.objects.create(code="d-1", name="Ace Hardware", bhid="bh_123")
    assert DealerSerializer().serialize(dealer)["bhid"] == "bh_123"


def test_inactive_dealer_is_deleted_from_the_primary_set() -> None:
    dealer = Dealer.objects.create(code="dealer-002", name="Target", active=False)
    assert entities(DealerSerializer, dealer) == [{"id": "dealer-002", "deleted": True}]


def test_secondary_set_sends_members_and_removes_non_members() -> None:
    member = Dealer.objects.create(code="dealer-001", name="Walmart", spring_campaign=True)
    other = Dealer.objects.create(code="dealer-003", name="Best Buy")
    closed = Dealer.objects.create(
        code="dealer-004", name="Sears", spring_campaign=True, active=False
    )
    assert entities(EligibleDealerSerializer, member, other, closed) == [
        {"id": "dealer-001", "title": "Walmart"},
        {"id": "dealer-003", "deleted": True},
        {"id": "dealer-004", "deleted": True},
    ]
    assert EligibleDealerSerializer.parent_set == DealerSerializer.entity_set


def test_a_malformed_localization_is_a_validation_error() -> None:
    dealer = Dealer.objects.create(
        code="d-9", name="X", localized_names={"de-DE": {"title": ["not", "text"]}}
    )
    with pytest.raises(Exception, match=r"field localizations\.de-DE\.title: must be a string"):
        DealerSerializer().serialize(dealer)
