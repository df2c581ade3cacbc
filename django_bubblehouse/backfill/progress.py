"""Progress of a backfill: a tqdm bar on a terminal, plain periodic lines otherwise.

Log files and CI consoles mangle carriage-return bars, so when the output is
not a terminal the same count, rate and ETA are printed as whole lines, at
most one every ``interval`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from django.core.management.base import OutputWrapper
from tqdm import tqdm


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, count: int) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    """``--no-progress``: the summary at the end is the only output."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def finish(self) -> None:
        pass


class _RawWriter:
    """tqdm redraws with bare carriage returns; OutputWrapper would append newlines."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")

    def flush(self) -> None:
        self.out.flush()


class BarProgress:
    """A tqdm bar per serializer, written to the command's own stream."""

    def __init__(self, out: OutputWrapper) -> None:
        self.stream = _RawWriter(out)
        self.bar: tqdm[Any] | None = None

    def start(self, label: str, total: int) -> None:
        self.finish()
        self.bar = tqdm(total=total, desc=label, unit="obj", file=self.stream, dynamic_ncols=True)

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class LineProgress:
    """``label: done/total (pct) rate/s ETA`` lines, throttled to one per ``interval``."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.interval = interval
        self.clock = clock
        self.label = ""
        self.total = 0
        self.done = 0
        self.started = 0.0
        self.last_line = 0.0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = self.last_line = self.clock()

    def advance(self, count: int) -> None:
        self.done += count
        if self.clock() - self.last_line >= self.interval:
            self._line()

    def finish(self) -> None:
        if self.label:
            self._line()
            self.label = ""

    def _line(self) -> None:
        now = self.last_line = self.clock()
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        percent = f" ({self.done * 100 // self.total}%)" if self.total else ""
        remaining = max(self.total - self.done, 0)
        eta = _duration(remaining / rate) if rate > 0 else "?"
        self.write(f"{self.label}: {self.done}/{self.total}{percent} {rate:.1f}/s ETA {eta}")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def make_progress(out: OutputWrapper, *, enabled: bool) -> Progress:
    if not enabled:
        return NoProgress()
    if out.isatty():
        return BarProgress(out)
    return LineProgress(out.write)
