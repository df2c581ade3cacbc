"""A (re)started django-q2 worker sweeps at once: a crashed cluster recovers in seconds."""

from __future__ import annotations

from unittest import mock

import pytest
from django_q.signals import post_spawn

from django_bubblehouse import tasks
from tests.bubblehouse_overrides import bubblehouse_settings


def test_a_spawned_worker_enqueues_a_sweep_on_the_apps_cluster() -> None:
    with (
        mock.patch("django_q.tasks.async_task") as enqueue,
        mock.patch("django_q.conf.Conf.SYNC", False),
        bubblehouse_settings(Q_CLUSTER_NAME="bubbles"),
    ):
        post_spawn.send(sender="django_q", proc_name="Process-1")
    [call] = enqueue.call_args_list
    assert call.args == (tasks.SWEEP_TASK,)
    assert call.kwargs["cluster"] == "bubbles"


def test_not_in_sync_mode_where_every_inline_task_spawns_a_worker() -> None:
    with mock.patch("django_q.tasks.async_task") as enqueue:
        post_spawn.send(sender="django_q", proc_name="Process-1")
    assert enqueue.call_count == 0


def test_a_broker_that_is_down_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with (
        mock.patch("django_q.tasks.async_task", side_effect=ConnectionError("redis down")),
        mock.patch("django_q.conf.Conf.SYNC", False),
    ):
        post_spawn.send(sender="django_q", proc_name="Process-1")
    assert "Could not enqueue a Bubblehouse sweep at worker start" in caplog.text
