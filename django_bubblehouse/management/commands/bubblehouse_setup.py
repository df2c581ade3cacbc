"""Create (or update) the django-q2 schedules that keep the outbox moving."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from django_bubblehouse.conf import get_settings

SCHEDULES = (
    # (name, task, schedule type, minutes)
    ("bubblehouse sweep", "django_bubblehouse.tasks.sweep_task", Schedule.MINUTES, 1),
    ("bubblehouse prune", "django_bubblehouse.tasks.prune_task", Schedule.DAILY, None),
    ("bubblehouse reconcile", "django_bubblehouse.tasks.reconcile_task", Schedule.MINUTES, 5),
)


class Command(BaseCommand):
    help = (
        "Create the django-q2 schedules of django-bubblehouse (idempotent): a sweep every "
        "minute (lost wake-ups, stuck rows, retries, pause probes), a daily prune, and a "
        "reconciliation every five minutes (writes that bypassed the signals)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        cluster = get_settings().q_cluster_name
        for name, func, schedule_type, minutes in SCHEDULES:
            _, created = Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "schedule_type": schedule_type,
                    "minutes": minutes,
                    "repeats": -1,
                    "cluster": cluster,
                },
            )
            verb = "Created" if created else "Updated"
            self.stdout.write(self.style.SUCCESS(f"{verb} schedule {name!r} ({func})"))
