"""What one request to the loopback emulator costs, with Nagle's algorithm off (as served) vs on.

    .venv/bin/python benchmarks/emulator_latency.py [--requests 200] [--rounds 5]

Each arm runs its own emulator server and posts the same small UpdateCustomers3
body over one keep-alive ``requests.Session`` (as the app's client does). The
response's headers and body leave the server in two writes; with Nagle's
algorithm on, the second one waits for the client's delayed ACK. The arms
alternate in rounds, so load on the machine hits them alike; each figure is the
median of the rounds' per-request times. No fault (and so no latency) is configured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import requests

from django_bubblehouse.testing.emulator import EmulatorServer, EmulatorState
from django_bubblehouse.testing.emulator.server import _Handler
from django_bubblehouse.testing.emulator.state import DEMO_SECRET, Key
from django_bubblehouse.testing.emulator.tokens import sign_token

BODY = json.dumps({"customers": [{"id": "c1", "email": "ann@example.com"}]})


def per_request(nagle_off: bool, count: int, token: str) -> float:
    """Seconds per request over one keep-alive connection to a fresh server."""
    _Handler.disable_nagle_algorithm = nagle_off
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with EmulatorServer(EmulatorState()) as server, requests.Session() as session:
        url = f"{server.url}/api/v2023061/demo/UpdateCustomers3"
        session.post(url, data=BODY, headers=headers, timeout=5).raise_for_status()  # warm up
        started = time.perf_counter()
        for _ in range(count):
            session.post(url, data=BODY, headers=headers, timeout=5).raise_for_status()
        return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    token = sign_token(Key("demo-kid", DEMO_SECRET), "demo", ttl=3600)
    times: dict[bool, list[float]] = {True: [], False: []}
    served_as = _Handler.disable_nagle_algorithm
    try:
        for _ in range(args.rounds):
            for nagle_off in (True, False):
                times[nagle_off].append(per_request(nagle_off, args.requests, token))
    finally:
        _Handler.disable_nagle_algorithm = served_as
    off, on = (statistics.median(times[arm]) * 1000 for arm in (True, False))
    print(f"requests per round: {args.requests}, rounds: {args.rounds}")
    print(f"TCP_NODELAY (as served): {off:.2f} ms/request")
    print(f"Nagle on:                {on:.2f} ms/request")
    print(f"ratio Nagle on / off:    {on / off:.1f}x")


if __name__ == "__main__":
    main()
