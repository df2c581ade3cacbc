"""Admin replaces leave a run the operator can open; the confirmation page warns first."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_bubblehouse.admin import actions
from django_bubblehouse.backfill.replace import (
    ReplaceRefused,
    last_replace,
    plan_replace,
    replace_task,
    start_replace_run,
)
from django_bubblehouse.kinds import Kind
from django_bubblehouse.models import BackfillRun, Pause
from django_bubblehouse.testing.emulator import EmulatorState
from tests.backfill_support import make_dealers

pytestmark = pytest.mark.django_db

PRIMARY = "authorized-dealers"
DEALERS = reverse("admin:testapp_dealer_changelist")
REPLACE = actions.REPLACE_ACTION


def confirm(client: Client, pk: int) -> str:
    response = client.post(
        DEALERS,
        {"action": REPLACE, "_selected_action": [str(pk)], "confirm": "yes", "entity_set": PRIMARY},
        follow=True,
    )
    return response.content.decode()


def confirmation_page(client: Client, pk: int) -> str:
    response = client.post(DEALERS, {"action": REPLACE, "_selected_action": [str(pk)]})
    assert response.status_code == 200
    return response.content.decode()


def test_confirmed_replace_creates_a_run_and_links_to_it(
    admin_client: Client, admin_tasks: mock.MagicMock
) -> None:
    (dealer,) = make_dealers(("d1", True, True))

    html = confirm(admin_client, dealer.pk)

    run = BackfillRun.objects.get()
    assert run.status == BackfillRun.Status.RUNNING
    assert run.selection["replace"] == PRIMARY
    (replace_range,) = run.ranges.all()
    assert replace_range.total == 1
    url = reverse("admin:django_bubblehouse_backfillrun_change", args=[run.pk])
    assert f'<a href="{url}">replace run #{run.pk}</a>' in html
    assert admin_tasks.call_args.args[-1] == run.pk


def test_task_records_success_on_the_run(emulator: EmulatorState) -> None:
    make_dealers(("d1", True, False), ("d2", True, False), ("d3", False, False))
    run = start_replace_run(plan_replace(Kind.ENTITIES, PRIMARY))

    assert replace_task("entities", PRIMARY, run.pk) == 2

    run.refresh_from_db()
    assert run.status == BackfillRun.Status.DONE
    assert run.finished_at is not None
    (replace_range,) = run.ranges.all()
    assert (replace_range.sent, replace_range.skipped, replace_range.done) == (2, 1, True)


def test_task_records_failure_on_the_run(emulator: EmulatorState) -> None:
    run = start_replace_run(plan_replace(Kind.ENTITIES, PRIMARY))

    with pytest.raises(ReplaceRefused):
        replace_task("entities", PRIMARY, run.pk)

    run.refresh_from_db()
    assert run.status == BackfillRun.Status.FAILED
    assert "an empty replace deletes everything" in run.reason
    assert last_replace(PRIMARY) == run
    assert emulator.requests == []


def test_run_page_shows_state_counts_and_error(admin_client: Client, emulator) -> None:
    run = start_replace_run(plan_replace(Kind.ENTITIES, PRIMARY))
    with pytest.raises(ReplaceRefused):
        replace_task("entities", PRIMARY, run.pk)

    listing = admin_client.get(reverse("admin:django_bubblehouse_backfillrun_changelist"))
    html = listing.content.decode()
    assert f"replace {PRIMARY}" in html
    assert "finished with failures" in html
    page = admin_client.get(reverse("admin:django_bubblehouse_backfillrun_change", args=[run.pk]))
    assert "an empty replace deletes everything" in page.content.decode()


def test_confirmation_warns_when_paused_or_the_last_replace_failed(
    admin_client: Client,
    emulator,
) -> None:
    (dealer,) = make_dealers(("d1", True, True))
    assert "bubblehouse-replace-warnings" not in confirmation_page(admin_client, dealer.pk)

    Pause.objects.create(
        scope=f"entity_set:{PRIMARY}",
        reason="UpdateEntities1 HTTP 400 entity_set_not_found: no such set",
        probe_at=timezone.now(),
    )
    failed = start_replace_run(plan_replace(Kind.ENTITIES, PRIMARY))
    BackfillRun.objects.filter(pk=failed.pk).update(
        status=BackfillRun.Status.FAILED, reason="InvalidRequest: HTTP 400"
    )

    html = confirmation_page(admin_client, dealer.pk)
    assert f"Pushes to &#x27;{PRIMARY}&#x27; are paused since" in html
    assert "no such set" in html
    assert f"(run #{failed.pk}," in html
    assert "failed: InvalidRequest: HTTP 400" in html
    assert "Backfill runs</a>" in html
