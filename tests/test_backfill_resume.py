"""A backfill runs once: ``--resume`` refuses a run whose process is still alive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.core.management import CommandError

from django_bubblehouse.backfill.runs import start_run
from django_bubblehouse.backfill.selection import Selection
from django_bubblehouse.models import BackfillRun
from tests.backfill_support import Recorder, backfill, make_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not this one: the backfill "still running" elsewhere."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait(timeout=10)


def crashed_mid_run(recorder: Recorder) -> BackfillRun:
    make_orders(4)
    recorder.script = [(200, {"ok": True}), KeyboardInterrupt()]
    with pytest.raises(CommandError):
        backfill("orders", batch_size=2, no_progress=True)
    run = BackfillRun.objects.get()
    # As a crash leaves it: still "running", owned by a process.
    BackfillRun.objects.filter(pk=run.pk).update(status=BackfillRun.Status.RUNNING)
    recorder.bodies.clear()
    return run


def test_resume_refuses_a_run_that_is_still_alive(
    recorder: Recorder, other_process: subprocess.Popen[bytes]
) -> None:
    run = crashed_mid_run(recorder)
    BackfillRun.objects.filter(pk=run.pk).update(pid=other_process.pid)
    with pytest.raises(CommandError) as refused:
        backfill("orders", batch_size=2, resume=True, no_progress=True)
    message = str(refused.value)
    assert f"pid {other_process.pid} on {socket.gethostname()}" in message
    assert f"kill -INT {other_process.pid}" in message
    assert recorder.bodies == []  # nothing pushed twice
    assert BackfillRun.objects.get().status == BackfillRun.Status.RUNNING


def test_resume_takes_over_a_run_whose_process_is_gone(recorder: Recorder) -> None:
    run = crashed_mid_run(recorder)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=30)
    BackfillRun.objects.filter(pk=run.pk).update(pid=gone.pid)
    output = backfill("orders", batch_size=2, resume=True, no_progress=True)
    assert f"Resuming backfill #{run.pk}" in output.out
    assert len(recorder.ids("orders")) == 2  # only the batch that was not done
    assert BackfillRun.objects.get().status == BackfillRun.Status.DONE


def test_a_run_on_another_host_counts_as_alive(recorder: Recorder) -> None:
    run = crashed_mid_run(recorder)
    BackfillRun.objects.filter(pk=run.pk).update(pid=1234, host="worker-7.example")
    with pytest.raises(CommandError, match=r"pid 1234 on worker-7\.example"):
        backfill("orders", batch_size=2, resume=True, no_progress=True)


def test_a_run_records_its_process() -> None:
    run = start_run(Selection(), batch_size=10)
    assert (run.pid, run.host) == (os.getpid(), socket.gethostname())
