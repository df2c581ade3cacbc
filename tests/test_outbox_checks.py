"""System checks of the delivery settings and the outbox's rows."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_bubblehouse.checks.delivery import (
    check_orphaned_rows,
    check_sending_lease,
    check_task_timeout,
)
from django_bubblehouse.models import OutboxEntry
from tests.bubblehouse_overrides import bubblehouse_settings

ROOT = Path(__file__).resolve().parent.parent
ORDERS = "tests.testapp.bubblehouse.OrderSerializer"


def cluster(**options: Any) -> Any:
    return override_settings(Q_CLUSTER={"name": "shop", "orm": "default", **options})


def test_default_lease_passes() -> None:
    assert check_sending_lease(None) == []


def test_lease_shorter_than_two_heartbeats_is_an_error() -> None:
    with bubblehouse_settings(SENDING_LEASE=3):
        [error] = check_sending_lease(None)
    assert error.id == "bubblehouse.E030"


def test_timeout_that_holds_a_push_and_a_longer_retry_pass() -> None:
    with cluster(timeout=60, retry=90):
        assert check_task_timeout(None) == []


def test_timeout_shorter_than_one_push_is_an_error() -> None:
    with cluster(timeout=30, retry=60):
        [error] = check_task_timeout(None)
    assert error.id == "bubblehouse.E032"
    assert "35s" in error.msg  # connect + read of the default TIMEOUT
    with cluster(timeout=30, retry=60), bubblehouse_settings(TIMEOUT=(2, 10)):
        assert check_task_timeout(None) == []


def test_retry_not_longer_than_timeout_is_an_error() -> None:
    with cluster(timeout=60, retry=60):
        [error] = check_task_timeout(None)
    assert error.id == "bubblehouse.E033"


def test_the_named_clusters_own_timeout_counts() -> None:
    alt = {"bubbles": {"timeout": 20, "retry": 40}}
    with (
        cluster(timeout=60, retry=90, ALT_CLUSTERS=alt),
        bubblehouse_settings(Q_CLUSTER_NAME="bubbles"),
    ):
        [error] = check_task_timeout(None)
    assert error.id == "bubblehouse.E032"


def test_the_example_shop_passes() -> None:
    example = runpy.run_path(str(ROOT / "example_project" / "config" / "settings.py"))
    with override_settings(Q_CLUSTER=example["Q_CLUSTER"]):
        assert check_task_timeout(None) == []


@pytest.mark.django_db
def test_rows_of_an_unregistered_serializer_are_a_warning() -> None:
    OutboxEntry.objects.create(kind="orders", serializer="shop.old.OrderSerializer", object_key="1")
    OutboxEntry.objects.create(kind="orders", serializer=ORDERS, object_key="1")
    [warning] = check_orphaned_rows(None, databases=["default"])
    assert warning.id == "bubblehouse.W030"
    assert "1 outbox row(s) wait for serializer 'shop.old.OrderSerializer'" in warning.msg
    assert 'rekey("shop.old.OrderSerializer", "<new dotted path>")' in (warning.hint or "")
    assert "manage.py shell" in (warning.hint or "")
    assert check_orphaned_rows(None) == []  # a database check: only with --database
