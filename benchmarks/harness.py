"""What the benchmarks share: one process per database, settings on a scratch database, and
the processes a shop runs next to it: real ``qcluster`` workers and the bundled emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("sqlite", "postgresql")


def each_backend(backend: str | None, forwarded: list[str]) -> bool:
    """Without ``--backend``, run this script again for SQLite and, when DATABASE_URL is set,
    for that database, each in its own process; True when it did (the caller is done)."""
    if backend is not None:
        if backend == "postgresql" and not os.environ.get("DATABASE_URL"):
            sys.exit("--backend postgresql needs DATABASE_URL")
        return False
    for each in BACKENDS[: 2 if os.environ.get("DATABASE_URL") else 1]:
        subprocess.run([sys.executable, sys.argv[0], "--backend", each, *forwarded], check=True)
        print()
    return True


def configure(base: ModuleType, database: Path, backend: str, **overrides: Any) -> None:
    """``base``'s settings on a throwaway SQLite file, or on DATABASE_URL's database for
    ``postgresql``, with django-q2 enqueueing only; ``overrides`` replace whole settings."""
    import dj_database_url

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    url = os.environ.get("DATABASE_URL") if backend == "postgresql" else None
    values["DATABASES"] = {
        # Persistent, like a host's own connection in a long process.
        "default": dj_database_url.parse(url, conn_max_age=600)
        if url
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}
    }
    values["Q_CLUSTER"] = {**base.Q_CLUSTER, "sync": False}
    settings.configure(**{**values, **overrides})
    django.setup()


def recreate_database(url: str) -> None:
    """Drop the PostgreSQL database named in ``url`` and create it empty."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def write_settings(
    work: Path,
    module: str,
    base: str,
    database: str,
    q_cluster: dict[str, Any],
    bubblehouse: dict[str, Any],
) -> None:
    """``work/<module>.py`` for the shop's processes: the settings module ``base`` on
    ``database``, with ``q_cluster`` as ``Q_CLUSTER``, ``bubblehouse`` over its
    ``BUBBLEHOUSE``, and the app's log in ``work/bubblehouse.log``."""
    (work / f"{module}.py").write_text(
        textwrap.dedent(f"""
            import dj_database_url

            from {base} import *  # noqa: F403

            DATABASES = {{"default": dj_database_url.parse({database!r}, conn_max_age=60)}}
            Q_CLUSTER = {q_cluster!r}
            BUBBLEHOUSE = {{**BUBBLEHOUSE, **{bubblehouse!r}}}
            LOGGING = {{
                "version": 1, "disable_existing_loggers": False,
                "handlers": {{"file": {{"class": "logging.FileHandler",
                    "filename": {str(work / "bubblehouse.log")!r}}}}},
                "loggers": {{"django_bubblehouse": {{"handlers": ["file"], "level": "INFO"}}}},
            }}
        """)
    )


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "django", *args], env=env, cwd=ROOT, check=True, timeout=300
    )


class Clusters:
    """``count`` ``qcluster`` processes under ``env`` (its settings), logging into ``work``."""

    def __init__(self, work: Path, env: dict[str, str], count: int = 1) -> None:
        self.work, self.env, self.count = work, env, count
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for number in range(self.count):
            with (self.work / f"qcluster-{number}.log").open("ab") as log:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "django", "qcluster"],
                        env=self.env,
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group: killed as a whole
                    )
                )

    def kill(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        self.processes.clear()

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()


@contextmanager
def clusters(work: Path, env: dict[str, str], count: int = 1) -> Iterator[Clusters]:
    running = Clusters(work, env, count)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def emulator_process(conf: dict[str, Any]) -> Iterator[str]:
    """The bundled emulator in a process of its own, as Bubblehouse would be (its validation
    of every object must not compete with the shop's code for one interpreter), for the
    shop and credentials of the ``BUBBLEHOUSE`` dict ``conf``; yields its URL."""
    command = [sys.executable, "-m", "django_bubblehouse.testing.emulator", "--port", "0"]
    command += ["--shop", conf["SHOP"], "--kid", conf["KID"], "--secret", conf["SHARED_SECRET"]]
    emulator = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert emulator.stdout is not None
        yield emulator.stdout.readline().split(" on ", 1)[1].split()[0]  # "... on http://..."
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def emulator_call(url: str, endpoint: str, body: dict[str, Any] | None = None) -> Any:
    """GET (or, with a body, POST) one of the emulator's own ``/_emulator/`` endpoints."""
    import requests

    method = "GET" if body is None else "POST"
    response = requests.request(method, f"{url}/_emulator/{endpoint}", json=body, timeout=60)
    response.raise_for_status()
    return response.json()
