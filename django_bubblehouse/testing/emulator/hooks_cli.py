"""``call-hook``: call one of a shop's hooks from the command line, signed like Bubblehouse."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...conf import SigningKey
from .hooks_client import URGENCIES, call_hook
from .state import DEMO_SECRET


def _json(text: str) -> Any:
    source = Path(text[1:]).read_text() if text.startswith("@") else text
    try:
        return json.loads(source)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--data is not JSON: {error}") from None


def call_hook_command(argv: Sequence[str]) -> int:
    """Print the shop's answer; exit 0 on a 2xx answer, 1 otherwise, 2 if it is unreachable."""
    parser = argparse.ArgumentParser(
        prog="python -m django_bubblehouse.testing.emulator call-hook",
        description="POST a hook to a shop with a correctly signed token.",
    )
    parser.add_argument("name", help="hook name, e.g. Hello1 or CreateDiscount4")
    parser.add_argument("--url", required=True, help="the hook URL as registered, with :name in it")
    parser.add_argument("--data", type=_json, default={}, help="JSON body, or @file")
    parser.add_argument("--shop", default="demo")
    parser.add_argument("--kid", default="demo-kid")
    parser.add_argument("--secret", default=DEMO_SECRET, help="the shop's base64 shared secret")
    parser.add_argument("--request-id", help="X-Request-ID (default: a fresh UUID)")
    parser.add_argument("--urgency", choices=URGENCIES, default="regular")
    args = parser.parse_args(argv)
    try:
        answer = call_hook(
            args.url,
            args.name,
            args.data,
            shop=args.shop,
            key=SigningKey(args.kid, args.secret),
            request_id=args.request_id,
            urgency=args.urgency,
        )
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        reason = getattr(error, "reason", error)
        print(f"{args.name}: could not reach {args.url}: {reason}", file=sys.stderr)
        return 2
    print(f"{args.name}: HTTP {answer.status}")
    print(json.dumps(answer.body, indent=2) if not isinstance(answer.body, str) else answer.body)
    return 0 if answer.ok else 1
