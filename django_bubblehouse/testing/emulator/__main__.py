"""Command line: run the emulator, or print what a running one holds.

    python -m django_bubblehouse.testing.emulator --port 8765 --shop demo \\
        --entity-set authorized-dealers \\
        --entity-set spring-cleaning-eligible-dealers:authorized-dealers \\
        --faults 503=0.1,reset=0.05 --fault-seed 7 --rate-limit 5
    python -m django_bubblehouse.testing.emulator inspect --url http://127.0.0.1:8765 [--errors]
    python -m django_bubblehouse.testing.emulator call-hook CreateDiscount4 \\
        --url http://127.0.0.1:8000/bubblehouse/hooks/:name --shop demo --kid demo-kid \\
        --secret c2VjcmV0... --data '{"code": "WELCOME10", "title": "10 % off", "percentage": 1000}'
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import urllib.request
from collections.abc import Sequence

from .faults import FaultConfig
from .rules import DOCUMENTED_VERSIONS
from .server import EmulatorServer
from .state import DEMO_SECRET, EmulatorConfig, EmulatorState, Key


def _entity_set(text: str) -> tuple[str, str | None]:
    name, _, parent = text.partition(":")
    return name, parent or None


def _rates(text: str) -> dict[str, float]:
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    try:
        return {name.strip(): float(rate) for name, rate in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError("use name=rate pairs, e.g. 503=0.1,reset=0.05") from None


def _latency(text: str) -> tuple[float, float]:
    low, _, high = text.partition(":")
    return float(low), float(high or low)


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m django_bubblehouse.testing.emulator",
        description="Run a local Bubblehouse Order API emulator (subcommand: inspect).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--shop", default="demo")
    parser.add_argument("--kid", default="demo-kid")
    parser.add_argument(
        "--secret", default=DEMO_SECRET, help="base64 shared secret (default: a demo secret)"
    )
    parser.add_argument(
        "--api-version",
        action="append",
        help=f"an accepted version, repeatable; default {', '.join(DOCUMENTED_VERSIONS)}",
    )
    parser.add_argument(
        "--obsolete-version",
        action="append",
        default=[],
        help="answers obsolete_global_api_version",
    )
    parser.add_argument(
        "--inaccessible-version",
        action="append",
        default=[],
        help="answers inaccessible_global_api_version (any other unknown one: invalid_...)",
    )
    parser.add_argument(
        "--entity-set",
        action="append",
        type=_entity_set,
        default=[],
        metavar="NAME[:PARENT]",
        help="a primary set, or a secondary set of PARENT; repeatable",
    )
    parser.add_argument("--allow-order-delete", action="store_true")
    parser.add_argument("--faults", type=_rates, default={}, metavar="NAME=RATE,...")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--latency", type=_latency, default=(0.0, 0.0), metavar="LOW[:HIGH]")
    parser.add_argument(
        "--retry-after", type=int, default=None, help="Retry-After seconds on an injected 429"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=None, metavar="N", help="requests per second per shop"
    )
    parser.add_argument("--timeout-delay", type=float, default=35.0)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        shop=args.shop,
        keys=(Key(args.kid, args.secret),),
        api_versions=frozenset(args.api_version or DOCUMENTED_VERSIONS),
        obsolete_versions=frozenset(args.obsolete_version),
        inaccessible_versions=frozenset(args.inaccessible_version),
        entity_sets=dict(args.entity_set),
        allow_order_delete=args.allow_order_delete,
        faults=FaultConfig(
            seed=args.fault_seed,
            rates=args.faults,
            latency=args.latency,
            retry_after=args.retry_after,
            rate_limit=args.rate_limit,
            timeout_delay=args.timeout_delay,
        ),
    )


def inspect(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="... inspect", description="Print a running emulator.")
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--requests", action="store_true", help="the request log, not the state")
    shown.add_argument(
        "--errors", action="store_true", help="only the processing errors (exit 1 if any)"
    )
    args = parser.parse_args(argv)
    endpoint = "requests" if args.requests else "state"
    with urllib.request.urlopen(f"{args.url.rstrip('/')}/_emulator/{endpoint}", timeout=10) as r:
        data = json.load(r)
    if args.errors:
        data = data["processing_errors"]
    print(json.dumps(data, indent=2, sort_keys=True))
    return 1 if args.errors and data else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["inspect"]:
        return inspect(argv[1:])
    if argv[:1] == ["call-hook"]:
        from .hooks_cli import call_hook_command

        return call_hook_command(argv[1:])
    parser = serve_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from(args)
    except ValueError as error:
        parser.error(str(error))
    server = EmulatorServer(
        EmulatorState(config), host=args.host, port=args.port, verbose=args.verbose
    )
    server.bind()
    sets = ", ".join(f"{n}:{p}" if p else n for n, p in config.entity_sets.items()) or "none"
    print(
        f"Bubblehouse emulator on {server.url} "
        f"(shop {config.shop!r}, kid {args.kid!r}, entity sets: {sets}); Ctrl-C to stop",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
