"""Answer a hook call at most once per request id and once per hook key.

Everything happens in one transaction: the receipts are inserted first (a
concurrent duplicate blocks on the unique key until this transaction ends),
then the host's handler runs, then the answer is stored. If the handler
raises, the transaction, its receipts and whatever the handler wrote roll
back together, so Bubblehouse's retry runs the handler again; if it commits,
every later duplicate gets the stored answer and the handler is not called.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from .handlers import HOOKS, Answer
from .models import HookReceipt


class RequestIdReused(Exception):
    """A request id that already answered a different body."""


def answer_hook(name: str, raw_body: bytes, body: Mapping[str, Any], request_id: str) -> Answer:
    """The answer to hook ``name``; raises ``InvalidPayload`` before anything is stored."""
    hook = HOOKS[name]
    parsed = hook.parse(body)
    # The hook's name is part of what a request id answered.
    digest = hashlib.sha256(name.encode() + b"\0" + raw_body).hexdigest()
    with transaction.atomic():
        claimed: list[HookReceipt] = []
        seen = _claim(HookReceipt.REQUEST_SCOPE, request_id, digest, claimed)
        if seen is not None:
            if seen.body_sha256 != digest:
                raise RequestIdReused(request_id)
            return Answer(seen.status, seen.response)
        if hook.key is not None:
            seen = _claim(name, hook.key(parsed), digest, claimed)
        answer = Answer(seen.status, seen.response) if seen is not None else hook.run(parsed)
        if not answer.final:
            transaction.set_rollback(True)
            return answer
        HookReceipt.objects.filter(pk__in=[r.pk for r in claimed]).update(
            status=answer.status, response=answer.body
        )
    return answer


def _claim(scope: str, key: str, digest: str, claimed: list[HookReceipt]) -> HookReceipt | None:
    """The receipt already stored for ``(scope, key)``, or ``None`` after claiming it."""
    try:
        with transaction.atomic():
            receipt = HookReceipt.objects.create(
                scope=scope, key=key, body_sha256=digest, status=0, response={}
            )
    except IntegrityError:
        # The duplicate waited for the first claim's transaction: its answer is committed now.
        return HookReceipt.objects.select_for_update().get(scope=scope, key=key)
    claimed.append(receipt)
    return None


def forget_requests(before: dt.datetime) -> int:
    r"""Drop request-id receipts older than ``before``; codes and ``bhid``\ s are kept for good."""
    deleted, _ = HookReceipt.objects.filter(
        scope=HookReceipt.REQUEST_SCOPE, created_at__lt=before
    ).delete()
    return deleted
