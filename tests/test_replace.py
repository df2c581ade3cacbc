"""Full replaces: one request, confirmation, dry run, empty and failing replaces."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import CommandError

from django_bubblehouse.backfill.replace import ReplaceRefused, replace_task
from django_bubblehouse.sync import disable_sync
from django_bubblehouse.testing.emulator import EmulatorState
from tests.backfill_support import (
    Recorder,
    backfill,
    make_dealers,
)
from tests.bubblehouse_overrides import with_serializers
from tests.testapp.bubblehouse import DealerSerializer
from tests.testapp.models import Collection, Dealer, Product

pytestmark = pytest.mark.django_db

PRIMARY = "authorized-dealers"
SECONDARY = "spring-cleaning-eligible-dealers"


class BrokenDealerSerializer(DealerSerializer):
    def is_deleted(self, dealer: Dealer) -> bool:
        if dealer.code == "broken":
            raise ValueError("no idea")
        return super().is_deleted(dealer)


def replace(*args: str, **options):
    return backfill(*args, replace=True, **options)


def test_primary_set_is_one_request_however_small_the_batches(emulator: EmulatorState) -> None:
    make_dealers(
        ("d1", True, False), ("d2", True, True), ("d3", True, False), ("gone", False, False)
    )

    output = replace("entities", entity_set=PRIMARY, yes=True, batch_size=1)

    (request,) = emulator.calls("UpdateEntities1")
    assert request.body["replace_entities"] is True
    assert request.body["entity_set"] == PRIMARY
    assert [row["id"] for row in request.body["entities"]] == ["d1", "d2", "d3"]
    assert f"primary entity set '{PRIMARY}'" in output.out
    assert "rows in the database: 4" in output.out
    assert "rows to send: 3 (left out: 1)" in output.out
    assert "Replaced authorized-dealers with 3 row(s)." in output.out


def test_secondary_set_sends_members_only(emulator: EmulatorState) -> None:
    make_dealers(("d1", True, True), ("d2", True, False), ("d3", False, True))
    replace("entities", entity_set=PRIMARY, yes=True)

    output = replace("entities", entity_set=SECONDARY, yes=True)

    request = emulator.calls("UpdateEntities1")[-1]
    assert [row["id"] for row in request.body["entities"]] == ["d1"]
    assert f"secondary entity set '{SECONDARY}' (subset of '{PRIMARY}')" in output.out
    assert [e["id"] for e in emulator.entities(SECONDARY)] == ["d1"]
    assert sorted(e["id"] for e in emulator.entities(PRIMARY)) == ["d1", "d2"]


def test_confirmation_by_typing_the_set_name(emulator: EmulatorState) -> None:
    make_dealers(("d1", True, False))
    with mock.patch("builtins.input", return_value=PRIMARY) as prompt:
        replace("entities", entity_set=PRIMARY)
    assert PRIMARY in prompt.call_args.args[0]
    assert len(emulator.calls("UpdateEntities1")) == 1


def test_wrong_confirmation_sends_nothing(emulator: EmulatorState) -> None:
    make_dealers(("d1", True, False))
    with (
        mock.patch("builtins.input", return_value="yes"),
        pytest.raises(CommandError, match="cancelled"),
    ):
        replace("entities", entity_set=PRIMARY)
    assert emulator.requests == []


def test_no_input_skips_the_prompt(emulator: EmulatorState) -> None:
    make_dealers(("d1", True, False))
    with mock.patch("builtins.input", side_effect=AssertionError("prompted")):
        replace("entities", "--no-input", entity_set=PRIMARY)
    assert len(emulator.calls("UpdateEntities1")) == 1


def test_dry_run_shows_the_plan_and_sends_nothing(emulator: EmulatorState) -> None:
    make_dealers(("d1", True, False))
    output = replace("entities", entity_set=PRIMARY, dry_run=True)
    assert emulator.requests == []
    assert "rows to send: 1" in output.out
    assert '"id": "d1"' in output.out
    assert "Dry run: nothing was sent." in output.out


def test_empty_replace_needs_allow_empty(emulator: EmulatorState) -> None:
    make_dealers(("gone", False, False))
    with pytest.raises(CommandError, match="empty replace deletes everything"):
        replace("entities", entity_set=PRIMARY, yes=True)
    assert emulator.requests == []

    replace("entities", entity_set=PRIMARY, yes=True, allow_empty=True)
    (request,) = emulator.calls("UpdateEntities1")
    assert request.body["entities"] == []


@with_serializers(BrokenDealerSerializer.label())
def test_serialization_error_refuses_the_replace(recorder: Recorder) -> None:
    make_dealers(("d1", True, False), ("broken", True, False))
    with pytest.raises(CommandError, match=r"1 object\(s\) could not be serialized.*no idea"):
        replace("entities", entity_set=PRIMARY, yes=True)
    assert recorder.bodies == []


def test_failure_is_one_request_and_an_error(recorder: Recorder) -> None:
    make_dealers(("d1", True, False), ("d2", True, False))
    recorder.script = [(500, {"message": "boom"})]
    with pytest.raises(CommandError, match="replace request failed: UpdateEntities1 HTTP 500"):
        replace("entities", entity_set=PRIMARY, yes=True, batch_size=1)
    assert len(recorder.bodies) == 1


def test_unknown_entity_set(recorder: Recorder) -> None:
    with pytest.raises(CommandError, match="no serializer is registered for entities feeding"):
        replace("entities", entity_set="nope", yes=True)


def test_products_replace(recorder: Recorder) -> None:
    with disable_sync():
        Product.objects.create(title="Shoe", slug="shoe")
        Product.objects.create(title="Sock", slug="sock")
    replace("products", yes=True, batch_size=1)
    (body,) = recorder.bodies
    assert body["replace_products"] is True
    assert body["collections"] == []
    assert [p["title"] for p in body["products"]] == ["Shoe", "Sock"]


def test_collections_replace_confirms_with_the_kind(recorder: Recorder) -> None:
    with disable_sync():
        Collection.objects.create(title="Shoes", slug="shoes")
    with mock.patch("builtins.input", return_value="collections"):
        replace("collections")
    (body,) = recorder.bodies
    assert body["replace_collections"] is True
    assert body["products"] == []
    assert [c["title"] for c in body["collections"]] == ["Shoes"]


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (("orders",), {}, "orders cannot be replaced"),
        (("entities",), {}, "--entity-set names the set"),
        (("products",), {"entity_set": PRIMARY}, "--entity-set names the set"),
        (("products", "collections"), {}, "exactly one kind"),
        (("products",), {"ids": ["1"]}, "--ids cannot be combined"),
        (("products",), {"resume": True}, "--resume cannot be combined"),
    ],
)
def test_invalid_replace_options(recorder: Recorder, args, options, message) -> None:
    with pytest.raises(CommandError, match=message):
        replace(*args, yes=True, **options)
    assert recorder.bodies == []


def test_admin_task_sends_the_set_in_one_request(emulator: EmulatorState) -> None:
    make_dealers(("d1", True, False), ("d2", True, False))

    assert replace_task("entities", PRIMARY) == 2

    (request,) = emulator.calls("UpdateEntities1")
    assert request.body["replace_entities"] is True


def test_admin_task_never_sends_an_empty_replace(emulator: EmulatorState) -> None:
    with pytest.raises(ReplaceRefused):
        replace_task("entities", PRIMARY)
    assert emulator.requests == []
