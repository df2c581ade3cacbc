"""What the benchmarks share: one process per database, and settings on a scratch database."""

from __future__ import annotations

import os
import subprocess
import sys
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
