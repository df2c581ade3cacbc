"""bubblehouse_setup creates the schedules once, whatever the number of runs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from tests.bubblehouse_overrides import bubblehouse_settings

pytestmark = pytest.mark.django_db


def test_creates_the_schedules_idempotently() -> None:
    out = StringIO()
    call_command("bubblehouse_setup", stdout=out)
    call_command("bubblehouse_setup", stdout=out)
    schedules = {s.func: s for s in Schedule.objects.all()}
    assert set(schedules) == {
        "django_bubblehouse.tasks.sweep_task",
        "django_bubblehouse.tasks.prune_task",
        "django_bubblehouse.tasks.reconcile_task",
    }
    reconcile = schedules["django_bubblehouse.tasks.reconcile_task"]
    assert (reconcile.schedule_type, reconcile.minutes) == (Schedule.MINUTES, 5)
    sweep = schedules["django_bubblehouse.tasks.sweep_task"]
    assert (sweep.schedule_type, sweep.minutes, sweep.repeats) == (Schedule.MINUTES, 1, -1)
    assert schedules["django_bubblehouse.tasks.prune_task"].schedule_type == Schedule.DAILY
    assert "Created schedule" in out.getvalue()
    assert "Updated schedule" in out.getvalue()


def test_uses_the_configured_cluster() -> None:
    with bubblehouse_settings(Q_CLUSTER_NAME="loyalty"):
        call_command("bubblehouse_setup", stdout=StringIO())
    assert set(Schedule.objects.values_list("cluster", flat=True)) == {"loyalty"}
