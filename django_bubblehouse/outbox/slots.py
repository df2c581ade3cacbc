"""Drain slots: at most ``DRAIN_PARALLELISM`` drains run at once, and a killed one frees its place.

A running drain holds one of the :class:`~django_bubblehouse.models.DrainSlot`
rows numbered ``0`` to ``DRAIN_PARALLELISM - 1``, taken with a conditional
UPDATE (two drains never hold the same one) under a ``SENDING_LEASE`` that its
heartbeat renews every third of it (:class:`.lease.Heartbeat`). A slot not
renewed for two beats is free (:func:`abandoned_before`): its drain is gone, a
killed worker's slot is free again 10 s (with the defaults) after its last beat.
Unlike a batch, a slot taken over from a drain that was only late costs nothing
worse than one drain too many for a while.

**Siblings.** One drain alone drains a backlog on one worker. A drain run by a
worker that finds more than one batch due wakes one sibling through the wake-up
flag while a slot is free (:func:`any_free`); the sibling does the same, until
every slot is held.

**No wake-up is lost.** A drain that finds every slot held (:func:`start`
returns None) cannot just end: the commit that woke it may have come after the
holders' last claims. It sets the wake-up flag again without enqueueing
(:func:`.wakeup.owe_drain`), then tries once more. A holder that ends releases its
slot *before* it reads the flag (:func:`hand_over`), so of the two, one sees
the other: the holder finds the flag set and drains on (or, its budget spent,
enqueues a drain), or the second try finds the released slot. Holders that are
dead cannot take the flag over: a patient drain turned away waits until the first
slot would be free if its holder stopped beating (:func:`first_free_at`) and
tries once more, so a cluster restarted after a crash drains in seconds
instead of at the next sweep.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db.models import Min, Q
from django.utils import timezone

from ..conf import get_settings
from ..models import DrainSlot
from .lease import BEATS_PER_LEASE, lease_seconds
from .wakeup import drain_started, owe_drain, request_drain, take_request


class Slot:
    """One drain's place among the running drains, while it holds one."""

    def __init__(self) -> None:
        self.token = secrets.randbits(62)
        self.number: int | None = None

    def take(self) -> bool:
        """Take a free slot; False when every one is held."""
        parallelism = get_settings().drain_parallelism
        now = timezone.now()
        slots = DrainSlot.objects.filter(number__lt=parallelism)
        leases = dict(slots.values_list("number", "lease_until"))
        missing = [number for number in range(parallelism) if number not in leases]
        if missing:  # the first drains, or a raised DRAIN_PARALLELISM
            DrainSlot.objects.bulk_create(
                [DrainSlot(number=number) for number in missing], ignore_conflicts=True
            )
        cutoff = abandoned_before(now)
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=cutoff)
        until = now + timedelta(seconds=lease_seconds())
        for number in range(parallelism):
            lease = leases.get(number)
            if lease is not None and lease >= cutoff:
                continue
            if slots.filter(free, number=number).update(holder=self.token, lease_until=until):
                self.number = number
                return True
        return False

    def renew(self) -> None:
        """Push the lease on (the heartbeat); a slot lost meanwhile stays lost."""
        until = timezone.now() + timedelta(seconds=lease_seconds())
        DrainSlot.objects.filter(holder=self.token).update(lease_until=until)

    def release(self) -> None:
        if self.number is not None:
            DrainSlot.objects.filter(holder=self.token).update(holder=None, lease_until=None)
            self.number = None


def start() -> Slot | None:
    """A slot for a drain that has just cleared the wake-up flag; None when every one is held,
    and then the flag is left set for a holder to take over."""
    slot = Slot()
    if slot.take():
        return slot
    owe_drain()
    return take_late()  # a holder may have released its slot before it could see the flag


def take_late() -> Slot | None:
    """A slot for a drain that left its request owed (:func:`start`), which it then covers."""
    slot = Slot()
    if not slot.take():
        return None
    drain_started()  # this drain claims after now: it covers what the flag stood for
    return slot


def hand_over(slot: Slot, *, go_on: bool) -> bool:
    """Release ``slot`` at the end of a drain; True when the drain must go on (holding a
    slot again) for a request that found every slot held.

    ``go_on`` False (the budget is spent): such a request is enqueued instead.
    """
    slot.release()
    if not take_request():
        return False
    if not go_on:
        request_drain()
        return False
    # Whoever took a slot since the release claims after the request: it is covered.
    return slot.take()


def abandoned_before(now: datetime) -> datetime:
    """A slot whose lease ends before this has missed two beats: its drain is gone.

    A live drain's lease always ends at least ``SENDING_LEASE`` minus one beat from now; one
    whole beat more is the margin for a late one.
    """
    return now + timedelta(seconds=lease_seconds() - 2 * lease_seconds() / BEATS_PER_LEASE)


def first_free_at() -> datetime | None:
    """When the first held slot is free if its drain beats no more; None when none is held."""
    now = timezone.now()
    slots = DrainSlot.objects.filter(number__lt=get_settings().drain_parallelism)
    ends = slots.filter(lease_until__gte=abandoned_before(now)).aggregate(first=Min("lease_until"))
    first: datetime | None = ends["first"]
    return None if first is None else first - (abandoned_before(now) - now)


def any_free() -> bool:
    """Whether a drain woken now would find a slot."""
    return held() < get_settings().drain_parallelism


def held() -> int:
    """How many drains are running now: slots whose drain still beats."""
    live = DrainSlot.objects.filter(
        number__lt=get_settings().drain_parallelism,
        lease_until__gte=abandoned_before(timezone.now()),
    )
    return live.count()
