"""The real django-q2 path: commit -> enqueue (ORM broker) -> a qcluster worker -> push.

Everything runs in separate processes against a file SQLite database, the way a
shop runs it; Bubblehouse is a small HTTP server in this process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from django_bubblehouse import tasks

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


class FakeBubblehouse(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

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


@pytest.fixture
def fake_api() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Handler", (FakeBubblehouse,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 90) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)  # polling interval, not a timing assumption
    raise AssertionError(f"timed out waiting for {what}")


def test_commit_reaches_bubblehouse_through_a_real_cluster(
    tmp_path: Path, fake_api: tuple[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    api_url, received = fake_api
    database = tmp_path / "shop.sqlite3"
    (tmp_path / "cluster_settings.py").write_text(
        textwrap.dedent(f"""
            from tests.settings import *  # noqa: F403

            DATABASES = {{"default": {{
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": {str(database)!r},
                "OPTIONS": {{"timeout": 30}},
            }}}}
            Q_CLUSTER = {{"name": "bhtest", "workers": 2, "timeout": 30, "retry": 60,
                          "orm": "default", "poll": 0.1}}
            BUBBLEHOUSE = {{**BUBBLEHOUSE, "API_HOST": {api_url!r}}}
        """)
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "cluster_settings",
    }
    run = [sys.executable, "-m", "django"]
    subprocess.run(
        [*run, "migrate", "--run-syncdb", "-v0"], env=env, check=True, cwd=ROOT, timeout=120
    )
    cluster = subprocess.Popen(
        [*run, "qcluster"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        host_save = textwrap.dedent("""
            import django
            django.setup()
            from django.db import transaction
            from tests import shop_factories as shop
            with transaction.atomic():
                order = shop.order([(None, 2, "9.50", "0")], customer=shop.customer())
            print(order.pk)
        """)
        saved = subprocess.run(
            [sys.executable, "-c", host_save],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert saved.returncode == 0, saved.stderr
        order_id = saved.stdout.strip()

        def order_pushed() -> list[dict[str, Any]] | None:
            return [
                order
                for path, body in list(received)
                if path.endswith("/UpdateOrders4")
                for order in body["orders"]
                if order["id"] == order_id
            ] or None

        [pushed] = wait_for(order_pushed, "the order push")
        assert pushed["items"][0]["amount_full"] == "19.00"

        def drain_results() -> list[tuple[str, int]] | None:
            with sqlite3.connect(database) as db:
                rows = db.execute(
                    "SELECT state, 1 FROM django_bubblehouse_outboxentry WHERE object_key = ?"
                    " AND serializer LIKE '%OrderSerializer'",
                    (order_id,),
                ).fetchall()
            return rows if rows and rows[0][0] == "sent" else None

        wait_for(drain_results, "the outbox row to be sent")

        def drain_task_succeeded() -> int | None:
            with sqlite3.connect(database) as db:
                [(count,)] = db.execute(
                    "SELECT COUNT(*) FROM django_q_task WHERE func = ? AND success = 1",
                    (tasks.drain_task.__module__ + ".drain_task",),
                ).fetchall()
            return count or None

        assert wait_for(drain_task_succeeded, "a successful drain task") >= 1
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cluster.kill()
            cluster.wait(timeout=10)
