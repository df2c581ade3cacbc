"""Progress output: a bar on a terminal, throttled plain lines otherwise, or nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper

from django_bubblehouse.backfill.progress import (
    BarProgress,
    LineProgress,
    NoProgress,
    make_progress,
)
from tests.backfill_support import Recorder, backfill, make_orders


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_are_throttled_and_show_rate_and_eta() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = LineProgress(lines.append, interval=10, clock=clock)

    progress.start("orders", 1000)
    clock.now += 5
    progress.advance(100)  # within the interval: silent
    clock.now += 5
    progress.advance(100)  # 200 in 10 s
    progress.finish()

    assert lines == [
        "orders: 200/1000 (20%) 20.0/s ETA 0:40",
        "orders: 200/1000 (20%) 20.0/s ETA 0:40",
    ]


def test_long_eta_has_hours() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = LineProgress(lines.append, interval=1, clock=clock)
    progress.start("orders", 100_000)
    clock.now += 10
    progress.advance(10)
    assert lines == ["orders: 10/100000 (0%) 1.0/s ETA 27:46:30"]


def test_choice_of_reporter() -> None:
    assert isinstance(make_progress(OutputWrapper(StringIO()), enabled=False), NoProgress)
    assert isinstance(make_progress(OutputWrapper(StringIO()), enabled=True), LineProgress)
    assert isinstance(make_progress(OutputWrapper(Terminal()), enabled=True), BarProgress)


@pytest.mark.django_db
def test_plain_lines_when_not_a_terminal(recorder: Recorder) -> None:
    make_orders(3)
    output = backfill("orders", batch_size=2)
    assert "OrderSerializer: 3/3 (100%)" in output.out


@pytest.mark.django_db
def test_no_progress_prints_only_the_summary(recorder: Recorder) -> None:
    make_orders(3)
    output = backfill("orders", batch_size=2, no_progress=True)
    (line,) = output.out.splitlines()
    assert line.endswith(": sent 3, skipped 0, failed 0")


@pytest.mark.django_db
def test_bar_on_a_terminal(recorder: Recorder) -> None:
    make_orders(3)
    terminal = Terminal()
    call_command("bubblehouse_backfill", "orders", batch_size=2, stdout=terminal)
    text = terminal.getvalue()
    assert "\r" in text  # redrawn in place, not line by line
    assert "3/3" in text
    assert "obj/s" in text
