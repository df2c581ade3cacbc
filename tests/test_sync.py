"""disable_sync() and AUTO_SYNC: scoped, nestable, thread- and task-local."""

from __future__ import annotations

import asyncio
import threading

from django.test import override_settings

from django_bubblehouse.sync import disable_sync, sync_enabled
from tests.testapp.models import Customer, Order


def test_enabled_by_default() -> None:
    assert sync_enabled(Order)


def test_disable_all_and_some() -> None:
    with disable_sync():
        assert not sync_enabled(Order)
        assert not sync_enabled(Customer)
    with disable_sync(Order):
        assert not sync_enabled(Order)
        assert sync_enabled(Customer)
    assert sync_enabled(Order)


def test_nested_blocks_add_up_and_restore() -> None:
    with disable_sync(Order):
        with disable_sync(Customer):
            assert not sync_enabled(Order)
            assert not sync_enabled(Customer)
        assert sync_enabled(Customer)
        assert not sync_enabled(Order)
        with disable_sync():
            assert not sync_enabled(Customer)
        assert sync_enabled(Customer)
    assert sync_enabled(Order)


def test_restored_after_exception() -> None:
    try:
        with disable_sync(Order):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert sync_enabled(Order)


def test_decorator_applies_on_each_call() -> None:
    @disable_sync(Order)
    def inside() -> tuple[bool, bool]:
        return sync_enabled(Order), sync_enabled(Customer)

    assert inside() == (False, True)
    assert inside() == (False, True)
    assert sync_enabled(Order)


def test_auto_sync_setting() -> None:
    with override_settings(BUBBLEHOUSE={"AUTO_SYNC": False}):
        assert not sync_enabled(Order)
    assert sync_enabled(Order)


def test_other_threads_are_not_affected() -> None:
    inside = threading.Event()
    release = threading.Event()
    seen: dict[str, bool] = {}

    def quiet_thread() -> None:
        with disable_sync():
            seen["quiet"] = sync_enabled(Order)
            inside.set()
            release.wait(timeout=10)

    def loud_thread() -> None:
        seen["loud"] = sync_enabled(Order)

    quiet = threading.Thread(target=quiet_thread)
    quiet.start()
    assert inside.wait(timeout=10)
    # While the other thread is inside its block, this thread and a fresh one still sync.
    assert sync_enabled(Order)
    loud = threading.Thread(target=loud_thread)
    loud.start()
    loud.join(timeout=10)
    release.set()
    quiet.join(timeout=10)
    assert seen == {"quiet": False, "loud": True}


def test_asyncio_tasks_are_independent() -> None:
    async def quiet(started: asyncio.Event, done: asyncio.Event) -> bool:
        with disable_sync(Order):
            started.set()
            await done.wait()
            return sync_enabled(Order)

    async def loud(started: asyncio.Event, done: asyncio.Event) -> bool:
        await started.wait()
        try:
            return sync_enabled(Order)
        finally:
            done.set()

    async def both() -> list[bool]:
        started, done = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(quiet(started, done), loud(started, done)))

    assert asyncio.run(both()) == [False, True]
