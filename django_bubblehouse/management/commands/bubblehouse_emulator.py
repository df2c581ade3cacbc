"""Run the bundled Bubblehouse emulator with this project's shop, key id and secret."""

from __future__ import annotations

import argparse
import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_bubblehouse.conf import get_settings
from django_bubblehouse.testing.emulator.__main__ import main as run_emulator
from django_bubblehouse.testing.entity_sets import entity_sets_from_serializers


class Command(BaseCommand):
    help = (
        "Start the bundled Bubblehouse emulator on loopback with the shop, key id and secret "
        "of this project's BUBBLEHOUSE setting and the entity sets of its serializers, and "
        "print the API_HOST to use. Options after -- go to the emulator (see python -m "
        "django_bubblehouse.testing.emulator --help), e.g. -- --faults 503=0.1."
    )

    requires_system_checks: list[str] = []  # a development server; the checks run elsewhere

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        parser.add_argument("emulator_options", nargs=argparse.REMAINDER)

    def handle(self, *args: Any, **options: Any) -> None:
        conf = get_settings()
        if not conf.shop or not conf.keys:
            raise CommandError(
                "BUBBLEHOUSE needs SHOP and credentials (KID and SHARED_SECRET, or KEYS) "
                "for the emulator to accept this project's tokens"
            )
        key = conf.signing_key  # the key the app signs with; the emulator verifies it
        host, port = options["host"], options["port"] or _free_port(options["host"])
        argv = [
            *("--host", host, "--port", str(port), "--shop", conf.shop),
            *("--kid", key.kid, "--secret", key.secret, "--api-version", conf.api_version),
        ]
        for name, parent in entity_sets_from_serializers().items():
            argv += ["--entity-set", f"{name}:{parent}" if parent else name]
        if conf.allow_order_delete:
            argv.append("--allow-order-delete")
        extra = options["emulator_options"]
        argv += extra[1:] if extra[:1] == ["--"] else extra
        self.stdout.write(
            self.style.SUCCESS(
                f'Point the app at it: BUBBLEHOUSE["API_HOST"] = "http://{host}:{port}"'
            )
        )
        self.stdout.flush()
        run_emulator(argv)


def _free_port(host: str) -> int:
    # The emulator binds it a moment later; a clash is only possible with another new server.
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
