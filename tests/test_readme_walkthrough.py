"""The README, followed literally by a newcomer in a fresh project.

A fresh ``startproject mysite`` with a small app ``shop`` (a ``Customer`` model)
gets the Install section's snippets in the order they are written: Python blocks
whose first line names a file (``# mysite/settings.py (add at the end)``) are
written or appended to that file, console lines are run. Then the pytest-plugin
example runs as written, and the pull-URL snippet is pasted into a stock
``urlpatterns``.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SECRET = base64.b64encode(b"a newcomer's 32-byte shared key!").decode()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
TARGET = re.compile(r"# (?P<path>[\w./-]+\.(?:py|ini))(?P<append> \(add at the end\))?$")
# Long-running processes the walkthrough does not start (a worker is tested elsewhere).
NOT_RUN = ("python manage.py qcluster",)
COMMAND_TIMEOUT = 120

SHOP_MODELS = """from django.db import models


class Customer(models.Model):
    email = models.EmailField()
    first_name = models.CharField(max_length=50, blank=True)
    last_name = models.CharField(max_length=50, blank=True)
"""


@dataclass
class Project:
    root: Path
    stock_urls: str
    ran: list[str]
    outputs: dict[str, subprocess.CompletedProcess[str]]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
        env["BUBBLEHOUSE_SECRET"] = SECRET
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def must_run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result


def section(title: str, level: str = "##") -> str:
    text = README.read_text()
    start = text.index(f"\n{level} {title}\n")
    end = text.find(f"\n{level} ", start + 1)
    return text[start : end if end != -1 else None]


def fences(text: str) -> list[tuple[str, str]]:
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(text)]


def apply_snippet(project: Project, body: str, *, every: bool) -> None:
    """Write (or append) a snippet to the file its first line names."""
    target = TARGET.fullmatch(body.partition("\n")[0].strip())
    if target is None:
        assert not every, f"a snippet in Install must name its file on its first line:\n{body}"
        return  # an illustration, not a file to write
    path = project.root / target.group("path")
    if target.group("append"):
        path.write_text(path.read_text() + "\n\n" + body)
    else:
        path.write_text(body)


def follow(project: Project, text: str, *, every: bool = True) -> None:
    """Do what ``text`` says, in order; ``every``: each Python snippet is a file to write."""
    for lang, body in fences(text):
        if lang == "console":
            for line in body.splitlines():
                line = line.split("#")[0].strip()
                if line.startswith("pip install"):
                    assert "django-bubblehouse" in line  # this checkout is installed already
                elif line and line not in NOT_RUN:
                    assert line.startswith("python "), line
                    project.outputs[line] = project.must_run(*line.split()[1:])
                    project.ran.append(line)
        else:
            apply_snippet(project, body, every=every)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("newcomer")
    project = Project(root, "", [], {})
    project.must_run("-m", "django", "startproject", "mysite", ".")
    project.must_run("manage.py", "startapp", "shop")
    project.stock_urls = (root / "mysite" / "urls.py").read_text()
    # The newcomer's own app exists before they install anything.
    (root / "shop" / "models.py").write_text(SHOP_MODELS)
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + '\nINSTALLED_APPS += ["shop"]\n')
    project.must_run("manage.py", "makemigrations", "shop")
    follow(project, section("Install"))
    return project


def test_install_runs_in_the_order_written(project: Project) -> None:
    steps = [line.split()[2] for line in project.ran]
    for earlier, later in [("migrate", "check"), ("check", "bubblehouse_setup")]:
        assert steps.index(earlier) < steps.index(later)
    check = project.outputs["python manage.py check --tag bubblehouse"]
    assert "System check identified no issues" in check.stdout
    setup = project.outputs["python manage.py bubblehouse_setup"]
    assert "schedule 'bubblehouse sweep'" in setup.stdout
    status = project.outputs["python manage.py bubblehouse_status"]
    assert "Bubblehouse sync: healthy" in status.stdout
    assert "shop.bubblehouse.CustomerSerializer" in status.stdout


def test_install_urls_serve_the_feeds_and_the_health_view(project: Project) -> None:
    answers = project.must_run("manage.py", "shell", "-v", "0", "-c", REQUESTS).stdout.split()
    assert answers == ["401", "403"]  # a feed needs a token; the health view a staff user


REQUESTS = (
    "from django.test import Client; c = Client(HTTP_HOST='localhost'); "
    "print(c.get('/bubblehouse/customers.json').status_code); "
    "print(c.get('/bubblehouse/health/').status_code)"
)


def test_the_pytest_example_runs_as_written(project: Project) -> None:
    follow(project, section("The pytest fixture", level="###"), every=False)
    result = project.run("-m", "pytest", "shop/tests.py", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_pull_url_snippet_pastes_into_urlpatterns(project: Project) -> None:
    (_, snippet), *_ = fences(section("Pull URLs"))
    lines = [line.strip() for line in snippet.splitlines()]
    imports = [line for line in lines if line.startswith("from django.urls import")]
    patterns = [line for line in lines if line.startswith("path(")]
    urls = project.stock_urls
    assert "from django.urls import path\n" in urls
    assert "urlpatterns = [\n" in urls
    urls = urls.replace("from django.urls import path\n", "\n".join(imports) + "\n")
    urls = urls.replace(
        "urlpatterns = [\n", "urlpatterns = [\n    " + "\n    ".join(patterns) + "\n"
    )
    (project.root / "mysite" / "urls.py").write_text(urls)
    script = (
        "from django.test import Client; "
        "print(Client(HTTP_HOST='localhost').get('/bubblehouse/orders.json').status_code)"
    )
    assert project.must_run("manage.py", "shell", "-v", "0", "-c", script).stdout.split() == ["401"]


def test_the_production_logging_snippet_configures_logging() -> None:
    import logging.config

    (body,) = [body for _, body in fences(section("Production")) if "LOGGING = {" in body]
    namespace: dict[str, object] = {}
    exec(body, namespace)  # the snippet is plain settings code
    config: dict[str, Any] = namespace["LOGGING"]  # type: ignore[assignment]
    loggers = [logging.getLogger(name) for name in config["loggers"]]
    saved = [(logger, logger.level, list(logger.handlers)) for logger in loggers]
    try:
        logging.config.dictConfig(config)
        assert logging.getLogger("django_bubblehouse").level == logging.INFO
    finally:  # leave the suite's logging as it was
        for logger, level, handlers in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
