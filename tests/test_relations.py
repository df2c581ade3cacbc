"""``related`` of any depth: dotted paths, several paths, the method hook, and their checks."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.checks.serializers import check_serializers
from django_bubblehouse.models import OutboxEntry
from django_bubblehouse.relations import PathError, parse_path
from tests.bubblehouse_overrides import with_serializers
from tests.delivery_support import reset_outbox
from tests.framework_shop import bubblehouse as fw
from tests.framework_shop.models import Category, Line, Order, Product, StockRecord
from tests.framework_support import FRAMEWORK_SERIALIZERS, parent_with_variants, quietly

HERE = "tests.test_relations"


class ByMethod(fw.ProductSerializer):
    """A category rename re-pushes its products: a fan-out no path can say."""

    related = {**fw.ProductSerializer.related, "framework_shop.Category": None}

    def get_instances_from_related(self, related_instance: Any) -> Iterable[Any]:
        products: Iterable[Any] = related_instance.products.all()
        return products


class HookMissing(fw.ProductSerializer):
    related = {"framework_shop.Category": None}


class BadPaths(fw.ProductSerializer):
    related = {
        "framework_shop.StockRecord": ("product", "product.nope"),
        "framework_shop.Line": "order.user",
        "framework_shop.Nope": "product",
        "framework_shop.OrderDiscount": 42,  # type: ignore[dict-item]
    }


def messages(path: str) -> list[str]:
    with with_serializers(path):
        return [m.msg for m in check_serializers(None) if m.id == "bubblehouse.E026"]


def keys(serializer: type[Any]) -> set[str]:
    rows = OutboxEntry.objects.filter(serializer=serializer.label())
    return set(rows.values_list("object_key", flat=True))


def test_the_framework_shop_is_check_clean() -> None:
    with with_serializers(*FRAMEWORK_SERIALIZERS):
        assert [m for m in check_serializers(None) if m.is_serious()] == []


def test_each_bad_entry_gets_its_own_clear_error() -> None:
    found = messages(f"{HERE}.BadPaths")
    assert len(found) == 4
    assert (
        "'nope' (in 'product.nope') is neither a foreign key nor the reverse accessor" in (found[0])
    )
    assert "'order.user' ends at auth.User, not framework_shop.Product" in found[1]
    assert "'framework_shop.Nope' is not an installed model" in found[2]
    assert "42 is neither a dotted path, a tuple of paths, nor None" in found[3]


def test_none_needs_the_method_hook() -> None:
    assert messages(f"{HERE}.ByMethod") == []
    [message] = messages(f"{HERE}.HookMissing")
    assert "get_instances_from_related(), which the serializer does not define" in message


def test_parse_path_walks_forward_keys_to_the_serialized_model() -> None:
    link = parse_path(StockRecord, "product.parent", Product)
    assert link.lookup == "product__parent"
    with pytest.raises(PathError, match=r"'order\.user' ends at auth\.User"):
        parse_path(Line, "order.user", Product)


@pytest.mark.django_db
def test_a_forward_first_hop_costs_one_query_for_the_rest_and_none_when_loaded() -> None:
    parent = quietly(parent_with_variants)
    record = StockRecord.objects.filter(product__parent=parent).first()
    assert record is not None
    link = parse_path(StockRecord, "product.parent", Product)
    with CaptureQueriesContext(connection) as cold:
        assert link.keys(StockRecord.objects.get(pk=record.pk), "default") == [str(parent.pk)]
    loaded = StockRecord.objects.select_related("product__parent").get(pk=record.pk)
    with CaptureQueriesContext(connection) as warm:
        assert link.keys(loaded, "default") == [str(parent.pk)]
    assert (len(cold), len(warm)) == (2, 0)  # the get() itself plus one values_list


@pytest.mark.django_db
def test_a_null_hop_leads_nowhere() -> None:
    standalone = quietly(lambda: Product.objects.create(title="Mug"))
    record = StockRecord.objects.create(product=standalone, partner_sku="M", price=Decimal(1))
    assert parse_path(StockRecord, "product.parent", Product).keys(record, "default") == []


@pytest.mark.django_db
def test_the_method_hook_pushes_what_it_returns() -> None:
    with with_serializers(f"{HERE}.ByMethod"):
        shirts = quietly(lambda: Category.objects.create(name="Shirts", slug="shirts"))
        tee, mug = quietly(lambda: (parent_with_variants("Tee"), parent_with_variants("Mug")))
        quietly(lambda: tee.categories.add(shirts))
        reset_outbox()
        shirts.name = "Tops"
        shirts.save()
        assert keys(ByMethod) == {str(tee.pk)}
        assert str(mug.pk) not in keys(ByMethod)


@pytest.mark.django_db
def test_a_variant_save_pushes_its_parent_through_a_self_relation() -> None:
    with with_serializers(*FRAMEWORK_SERIALIZERS):
        parent = quietly(parent_with_variants)
        child = parent.children.first()
        assert child is not None
        reset_outbox()
        child.title = "Tee, blue"
        child.save()
        assert str(parent.pk) in keys(fw.ProductSerializer)


@pytest.mark.django_db
def test_set_null_rows_of_a_related_model_push_their_parent() -> None:
    with with_serializers(*FRAMEWORK_SERIALIZERS):
        product = quietly(lambda: Product.objects.create(title="Mug"))
        placed = quietly(
            lambda: Order.objects.create(number="7", total_incl_tax=1, total_excl_tax=1)
        )
        quietly(
            lambda: Line.objects.create(
                order=placed,
                product=product,
                title="Mug",
                partner_sku="M",
                line_price_incl_tax=1,
                line_price_excl_tax=1,
                line_price_before_discounts_incl_tax=1,
                line_price_before_discounts_excl_tax=1,
            )
        )
        product.delete()  # the line's product is SET_NULL, in an UPDATE with no signal
        assert keys(fw.OrderSerializer) == {str(placed.pk)}
