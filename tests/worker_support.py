"""Real django-q2 workers for the tests: a shop in subprocesses and a fake Bubblehouse.

The shop runs the way a real one does: its own settings module over a file
SQLite database, host code in one process, a ``qcluster`` in another.
Bubblehouse is a small HTTP server in the test's process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
Received = list[tuple[str, dict[str, Any]]]


class FakeBubblehouse(BaseHTTPRequestHandler):
    received: Received = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body))
        payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 90) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)  # polling interval, not a timing assumption
    raise AssertionError(f"timed out waiting for {what}")


class WorkerShop:
    """The test shop in subprocesses: ``q_cluster`` is its Q_CLUSTER setting, ``bubblehouse``
    overrides some of its BUBBLEHOUSE settings."""

    def __init__(
        self,
        tmp_path: Path,
        api_url: str,
        q_cluster: dict[str, Any],
        bubblehouse: dict[str, Any] | None = None,
    ) -> None:
        self.database = tmp_path / "shop.sqlite3"
        self.cluster_log = tmp_path / "qcluster.log"
        # IMMEDIATE: concurrent writers wait for SQLite's lock instead of failing an upgrade.
        (tmp_path / "cluster_settings.py").write_text(
            textwrap.dedent(f"""
                from tests.settings import *  # noqa: F403

                DATABASES = {{"default": {{
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": {str(self.database)!r},
                    "OPTIONS": {{"timeout": 30, "transaction_mode": "IMMEDIATE"}},
                }}}}
                Q_CLUSTER = {q_cluster!r}
                BUBBLEHOUSE = {{**BUBBLEHOUSE, "API_HOST": {api_url!r}, **{bubblehouse or {}!r}}}
            """)
        )
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "cluster_settings",
        }
        self.manage("migrate", "--run-syncdb", "-v0")

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=self.env,
            check=True,
            cwd=ROOT,
            timeout=120,
        )

    def start(self, code: str) -> subprocess.Popen[str]:
        """Host code (after ``django.setup()``) in a process of its own; it prints its result."""
        script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
        return subprocess.Popen(
            [sys.executable, "-c", script],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, code: str) -> str:
        return finish(self.start(code))

    @contextmanager
    def cluster(self) -> Iterator[subprocess.Popen[bytes]]:
        """A running ``qcluster`` (its output in :attr:`cluster_log`), stopped on exit."""
        with self.cluster_log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "django", "qcluster"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.database, timeout=30) as db:
            return db.execute(sql, params).fetchall()


def finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """Wait for a :meth:`WorkerShop.start`\\ ed process; its stdout, or a failure with stderr."""
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr
    return stdout.strip()
