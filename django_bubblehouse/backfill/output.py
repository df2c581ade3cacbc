"""What ``bubblehouse_backfill`` tells its user: samples, summaries, the replace dialogue."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ..client import get_client
from ..encoding import dumps
from ..exceptions import BubblehouseAPIError
from ..kinds import Kind
from ..models import BackfillRun
from .replace import ReplaceRefused, build_body, check_body, execute, plan_replace
from .runner import Tally
from .runs import RunTotals
from .selection import SerializerClass


def pretty(payload: dict[str, Any]) -> str:
    """The payload exactly as it would be sent (Decimal as strings), indented."""
    return json.dumps(json.loads(dumps(payload)), indent=2, ensure_ascii=False)


def print_samples(command: BaseCommand, tallies: dict[SerializerClass, Tally]) -> None:
    shown: set[Kind] = set()
    for cls, tally in tallies.items():
        command.stdout.write(
            f"{cls.label()}: would send {tally.sent}, skip {tally.skipped}, fail {tally.failed}"
        )
        for error in tally.errors:
            command.stderr.write(command.style.ERROR(f"  {error}"))
        if tally.sample is not None and cls.kind not in shown:
            shown.add(cls.kind)
            command.stdout.write(command.style.MIGRATE_HEADING(f"Sample {cls.kind} payload:"))
            command.stdout.write(pretty(tally.sample))
    command.stdout.write(command.style.WARNING("Dry run: nothing was sent."))


def print_summary(
    command: BaseCommand, run: BackfillRun, totals: RunTotals, errors: list[str]
) -> None:
    line = (
        f"Backfill #{run.pk}: sent {totals.sent}, skipped {totals.skipped}, failed {totals.failed}"
    )
    if not totals.failed:
        command.stdout.write(command.style.SUCCESS(line))
        return
    command.stdout.write(command.style.WARNING(line))
    for error in errors:
        command.stderr.write(command.style.ERROR(f"  {error}"))
    raise CommandError(
        f"{totals.failed} object(s) were not sent by this run; each waits in the Bubblehouse "
        "outbox with its reason: the drain retries transient failures (429, 5xx, timeouts) by "
        "itself, rejected objects need their data fixed (see the outbox admin)"
    )


def run_replace(
    command: BaseCommand, kinds: tuple[Kind, ...], options: dict[str, Any], batch_size: int
) -> None:
    """Plan, show, confirm, then send the one replace request."""
    if len(kinds) != 1:
        raise CommandError("--replace needs exactly one kind: entities, products or collections")
    for flag in ("since", "until", "resume", "fan_out"):
        if options.get(flag):
            raise CommandError(f"--{flag.replace('_', '-')} cannot be combined with --replace")
    if options["ids"]:
        raise CommandError("--ids cannot be combined with --replace (it would delete the rest)")
    plan = plan_replace(kinds[0], options["entity_set"])
    command.stdout.write(command.style.MIGRATE_HEADING(f"Replace {plan.description}"))
    command.stdout.write(f"  rows in the database: {plan.rows}")
    body = build_body(plan, batch_size)
    command.stdout.write(f"  rows to send: {len(body.payloads)} (left out: {body.skipped})")
    command.stdout.write(f"  effect: {plan.consequence}")
    try:
        check_body(body, allow_empty=options["allow_empty"])
    except ReplaceRefused as error:
        raise CommandError(f"replace refused: {error}") from error
    if options["dry_run"]:
        if body.payloads:
            command.stdout.write(pretty(body.payloads[0]))
        command.stdout.write(command.style.WARNING("Dry run: nothing was sent."))
        return
    if options["interactive"] and not options["yes"]:
        answer = input(f"Type {plan.target!r} to send the replace: ")
        if answer.strip() != plan.target:
            raise CommandError("replace cancelled; nothing was sent")
    try:
        execute(plan, body, get_client())
    except BubblehouseAPIError as error:
        raise CommandError(f"the replace request failed: {error}") from error
    command.stdout.write(
        command.style.SUCCESS(f"Replaced {plan.target} with {len(body.payloads)} row(s).")
    )
