"""Start and stop the example shop's processes: emulator, manage.py commands, worker, web.

Shared by ``run_demo.py`` and the tests that drive the example project, so
both run exactly the same processes. Every process binds 127.0.0.1 only,
every wait has a deadline, and :meth:`DemoProcesses.stop` always ends what
was started (terminate, then kill after a bounded wait), also after Ctrl-C.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

EXAMPLE_DIR = Path(__file__).resolve().parent
MANAGE = EXAMPLE_DIR / "manage.py"
LOOPBACK = "127.0.0.1"
SHOP = "demo-shop"
KID = "demo-kid"
PRIMARY_SET = "authorized-dealers"
SECONDARY_SET = "spring-cleaning-eligible-dealers"
ENTITY_SETS = (PRIMARY_SET, f"{SECONDARY_SET}:{PRIMARY_SET}")
STOP_GRACE = 10.0  # seconds a process gets to exit after SIGTERM

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2
) -> T:
    """Poll ``condition`` until it returns something truthy; ``TimeoutError`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def answers(url: str) -> bool:
    """True once anything answers HTTP at ``url`` (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


class Emulator:
    """The inspection API of a running emulator (``/_emulator/...``)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = get_json(f"{self.url}/_emulator/state")
        return result

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = get_json(f"{self.url}/_emulator/requests")
        return result

    def rejected(self) -> list[dict[str, Any]]:
        """Requests that were not accepted (including faults): a clean run has none."""
        return [r for r in self.requests() if r["status"] != 200]

    def processing_errors(self) -> list[dict[str, Any]]:
        """Objects answered 200 but not applied (Bubblehouse emails them): a clean run has none."""
        errors: list[dict[str, Any]] = self.state()["processing_errors"]
        return errors


class DemoProcesses:
    """The example shop in ``workdir``: its SQLite file, logs and child processes.

    ``echo=True`` lets manage.py commands print to this terminal (the demo);
    otherwise their output is captured and shown only when they fail (tests).
    """

    def __init__(self, workdir: Path, *, echo: bool = False, debug_mode: bool = False) -> None:
        self.workdir = workdir
        self.echo = echo
        self.secret = base64.b64encode(secrets.token_bytes(32)).decode()
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "EXAMPLE_DB": str(workdir / "shop.sqlite3"),
            "BUBBLEHOUSE_SHOP": SHOP,
            "BUBBLEHOUSE_KID": KID,
            "BUBBLEHOUSE_SHARED_SECRET": self.secret,
            "BUBBLEHOUSE_DEBUG_MODE": "1" if debug_mode else "0",
        }
        self.emulator: Emulator | None = None
        self._children: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []

    # -- one-shot commands ---------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 120.0, **extra_env: str) -> str:
        """Run ``manage.py *args``; its output (captured unless echoing); raises on failure."""
        command = [sys.executable, str(MANAGE), *args]
        env = {**self.env, **extra_env}
        if self.echo:
            subprocess.run(command, env=env, check=True, timeout=timeout)
            return ""
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(
                f"manage.py {' '.join(args)} exited with {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def prepare(self) -> None:
        """A fresh database, the app's schedules, and the demo data (written with sync off)."""
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("bubblehouse_setup")
        self.manage("seed_demo")

    def create_superuser(self, username: str = "admin") -> str:
        """An admin with a fresh random password, which is returned (never stored)."""
        password = secrets.token_urlsafe(12)
        email = f"{username}@example.com"
        args = ("createsuperuser", "--no-input", "--username", username, "--email", email)
        self.manage(*args, DJANGO_SUPERUSER_PASSWORD=password)
        return password

    def customer_login(self, username: str = "customer1") -> str:
        """A fresh random password (returned, never stored) for a seeded customer."""
        password = secrets.token_urlsafe(12)
        self.manage("demo_storefront_login", username, DEMO_CUSTOMER_PASSWORD=password)
        return password

    def call_hook(self, web_url: str, name: str, data: dict[str, Any]) -> str:
        """Call the shop's hook as Bubblehouse would, with the emulator's ``call-hook``."""
        command = [sys.executable, "-m", "django_bubblehouse.testing.emulator", "call-hook", name]
        command += ["--url", f"{web_url}/bubblehouse/hooks/:name", "--data", json.dumps(data)]
        command += ["--shop", SHOP, "--kid", KID, "--secret", self.secret]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)
        if self.echo:
            print(done.stdout, end="", flush=True)
        if done.returncode:
            raise RuntimeError(f"call-hook {name} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    # -- long-running processes --------------------------------------------------------

    def start_emulator(self, *, timeout: float = 20.0) -> Emulator:
        port = free_port()
        args = ["-m", "django_bubblehouse.testing.emulator", "--host", LOOPBACK]
        args += ["--port", str(port), "--shop", SHOP, "--kid", KID, "--secret", self.secret]
        for entity_set in ENTITY_SETS:
            args += ["--entity-set", entity_set]
        self._start("emulator", [sys.executable, *args])
        url = f"http://{LOOPBACK}:{port}"
        self._wait_http("emulator", f"{url}/_emulator/state", timeout)
        self.env["BUBBLEHOUSE_API_HOST"] = url
        self.emulator = Emulator(url)
        return self.emulator

    def start_worker(self) -> None:
        """A real django-q2 cluster on the ORM broker; it is ready once it polls the queue."""
        self._start("worker", [sys.executable, str(MANAGE), "qcluster"])

    def start_web(self, *, timeout: float = 30.0) -> str:
        port = free_port()
        address = f"{LOOPBACK}:{port}"
        self._start("web", [sys.executable, str(MANAGE), "runserver", "--noreload", address])
        url = f"http://{address}"
        self._wait_http("web", f"{url}/admin/login/", timeout)
        return url

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _start(self, name: str, command: Sequence[str]) -> None:
        output = self.log(name).open("wb")
        # Its own session: Ctrl-C reaches only this script, which stops the children in order,
        # and a kill can take the worker's own child processes with it.
        child = subprocess.Popen(
            command,
            cwd=EXAMPLE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._children.append((name, child, output))

    def _wait_http(self, name: str, url: str, timeout: float) -> None:
        child = next(c for n, c, _ in self._children if n == name)

        def up() -> bool:
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.returncode}:\n{self.tail(name)}")
            return answers(url)

        wait_until(up, timeout=timeout, what=f"{name} at {url}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log(name)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        for name, child, _ in self._children:
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.returncode}:\n{self.tail(name)}")

    def stop(self) -> None:
        """Stop every child, newest first: SIGTERM, then SIGKILL to its group after a grace."""
        while self._children:
            _, child, output = self._children.pop()
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    _kill_group(child)
                    child.wait(timeout=STOP_GRACE)
            _kill_group(child)  # anything the child left behind in its session
            output.close()

    def __enter__(self) -> DemoProcesses:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
