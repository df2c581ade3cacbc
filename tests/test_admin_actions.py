"""The host-admin actions: push selected (outbox only) and replace an entity set (a task)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from django_bubblehouse.admin import actions
from django_bubblehouse.models import BackfillRun, OutboxEntry, OutboxState
from tests.admin_support import staff
from tests.backfill_support import make_dealers, make_orders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_http")]

PUSH = "push_to_bubblehouse"
REPLACE = "replace_entity_set_in_bubblehouse"
DEALERS = reverse("admin:testapp_dealer_changelist")
ORDERS = reverse("admin:testapp_order_changelist")


def action_names(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is available at all
    return [] if form is None else [value for value, _ in form.fields["action"].choices]


def test_superuser_sees_both_actions_on_an_entity_model(admin_client: Client) -> None:
    names = action_names(admin_client, DEALERS)
    assert PUSH in names
    assert REPLACE in names


def test_replace_only_for_entity_models(admin_client: Client) -> None:
    names = action_names(admin_client, ORDERS)
    assert PUSH in names
    assert REPLACE not in names


def test_model_without_the_mixin_has_no_actions(admin_client: Client) -> None:
    names = action_names(admin_client, reverse("admin:testapp_customer_changelist"))
    assert PUSH not in names


def test_each_action_needs_its_own_permission() -> None:
    client = staff("view_dealer", PUSH)
    names = action_names(client, DEALERS)
    assert PUSH in names
    assert REPLACE not in names


def test_user_without_permissions_has_no_actions() -> None:
    names = action_names(staff("view_dealer", "change_dealer"), DEALERS)
    assert PUSH not in names
    assert REPLACE not in names


def test_push_writes_outbox_rows_for_every_serializer(admin_client: Client) -> None:
    dealers = make_dealers(("d1", True, True), ("d2", True, False), ("d3", True, False))
    chosen = [str(d.pk) for d in dealers[:2]]

    response = admin_client.post(DEALERS, {"action": PUSH, "_selected_action": chosen}, follow=True)

    rows = set(OutboxEntry.objects.values_list("serializer", "object_key", "state"))
    assert rows == {
        (f"tests.testapp.bubblehouse.{name}", key, OutboxState.PENDING)
        for name in ("DealerSerializer", "EligibleDealerSerializer")
        for key in chosen
    }
    assert "2 object(s) queued for Bubblehouse" in response.content.decode()


def test_push_of_all_orders(admin_client: Client) -> None:
    orders = make_orders(3)
    admin_client.post(
        ORDERS,
        {"action": PUSH, "select_across": "1", "_selected_action": [str(orders[0].pk)]},
    )
    assert sorted(OutboxEntry.objects.values_list("object_key", flat=True)) == sorted(
        str(o.pk) for o in orders
    )


def test_forged_push_is_refused() -> None:
    (dealer,) = make_dealers(("d1", True, False))
    client = staff("view_dealer", "change_dealer")

    response = client.post(DEALERS, {"action": PUSH, "_selected_action": [str(dealer.pk)]})

    assert response.status_code in (200, 302)
    assert OutboxEntry.objects.count() == 0


def test_replace_asks_for_confirmation(admin_client: Client, admin_tasks: mock.MagicMock) -> None:
    dealers = make_dealers(("d1", True, True), ("d2", True, False), ("d3", False, False))

    response = admin_client.post(
        DEALERS, {"action": REPLACE, "_selected_action": [str(dealers[0].pk)]}
    )

    assert response.status_code == 200
    assert "django_bubblehouse/admin/replace_entity_set.html" in [
        t.name for t in response.templates
    ]
    page = response.content.decode()
    assert "authorized-dealers" in page
    assert "spring-cleaning-eligible-dealers" in page
    assert "secondary (subset of <code>authorized-dealers</code>)" in page
    plans = {plan.entity_set: plan for plan in response.context["plans"]}
    assert plans["authorized-dealers"].rows == 3
    assert plans["spring-cleaning-eligible-dealers"].parent_set == "authorized-dealers"
    admin_tasks.assert_not_called()


def test_confirmed_replace_enqueues_the_task(
    admin_client: Client, admin_tasks: mock.MagicMock
) -> None:
    (dealer,) = make_dealers(("d1", True, True))

    response = admin_client.post(
        DEALERS,
        {
            "action": REPLACE,
            "_selected_action": [str(dealer.pk)],
            "confirm": "yes",
            "entity_set": "spring-cleaning-eligible-dealers",
        },
        follow=True,
    )

    admin_tasks.assert_called_once()
    run = BackfillRun.objects.get()
    assert admin_tasks.call_args.args == (
        actions.REPLACE_TASK,
        "entities",
        "spring-cleaning-eligible-dealers",
        run.pk,
    )
    assert "enqueued" in response.content.decode()


def test_confirmed_replace_of_another_set_is_refused(
    admin_client: Client, admin_tasks: mock.MagicMock
) -> None:
    (dealer,) = make_dealers(("d1", True, True))
    admin_client.post(
        DEALERS,
        {
            "action": REPLACE,
            "_selected_action": [str(dealer.pk)],
            "confirm": "yes",
            "entity_set": "some-other-set",
        },
    )
    admin_tasks.assert_not_called()


def test_forged_replace_is_refused(admin_tasks: mock.MagicMock) -> None:
    (dealer,) = make_dealers(("d1", True, True))
    client = staff("view_dealer", "change_dealer", PUSH)

    client.post(
        DEALERS,
        {
            "action": REPLACE,
            "_selected_action": [str(dealer.pk)],
            "confirm": "yes",
            "entity_set": "authorized-dealers",
        },
    )

    admin_tasks.assert_not_called()
