"""manage.py bubblehouse_emulator: the emulator with this project's own shop and key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from django_bubblehouse.client import BubblehouseClient
from tests.bubblehouse_overrides import bubblehouse_settings

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 20.0


@pytest.fixture
def emulator_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "bubblehouse_emulator", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the command prints, or exits
        (api_host,) = re.findall(r'BUBBLEHOUSE\["API_HOST"\] = "(http://127\.0\.0\.1:\d+)"', first)
        banner = process.stdout.readline()
        assert f"Bubblehouse emulator on {api_host}" in banner
        yield process, api_host
    finally:
        process.terminate()
        process.wait(timeout=STARTUP_TIMEOUT)


def test_it_accepts_the_projects_own_tokens(
    emulator_process: tuple[subprocess.Popen[str], str],
) -> None:
    _, api_host = emulator_process
    with bubblehouse_settings(API_HOST=api_host):
        BubblehouseClient().update_customers([{"id": "c1", "email": "ann@example.com"}])
    state = requests.get(f"{api_host}/_emulator/state", timeout=5).json()
    assert state["customers"]["c1"]["email"] == "ann@example.com"
    assert sorted(state["entity_sets"]) == [
        "authorized-dealers",
        "spring-cleaning-eligible-dealers",
    ]


def test_it_refuses_to_start_without_credentials() -> None:
    with (
        bubblehouse_settings(SHARED_SECRET="", KEYS=()),
        pytest.raises(CommandError, match="needs SHOP and credentials"),
    ):
        call_command("bubblehouse_emulator")
