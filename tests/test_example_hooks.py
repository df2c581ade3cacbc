"""The example shop's CreateDiscount4 handler and checkout, called over HTTP like Bubblehouse.

Runs the example project in subprocesses (its own settings), as ``make demo`` does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from django_bubblehouse.conf import SigningKey
from django_bubblehouse.testing.emulator.hooks_client import HookAnswer, call_hook

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "example_project"
sys.path.insert(0, str(EXAMPLE_DIR))

from demo_checks import mismatches  # noqa: E402
from demo_processes import KID, SHOP, DemoProcesses, Emulator, wait_until  # noqa: E402

REWARD = {"code": "BH-10", "title": "10 % off", "percentage": 1000, "max_uses": 1}


@dataclass(frozen=True)
class Shop:
    processes: DemoProcesses
    emulator: Emulator
    url: str

    def hook(self, name: str, data: dict[str, Any]) -> HookAnswer:
        key = SigningKey(KID, self.processes.secret)
        return call_hook(f"{self.url}/bubblehouse/hooks/:name", name, data, shop=SHOP, key=key)

    def codes(self) -> list[dict[str, Any]]:
        rows = json.loads(self.processes.manage("dumpdata", "shop.discountcode"))
        return [row["fields"] for row in rows]

    def checkout(self, code: str, number: str, tmp_path: Path) -> list[dict[str, Any]]:
        expect = tmp_path / f"{number}.json"
        self.processes.manage(
            "demo_checkout", "--code", code, "--number", number, "--expect", str(expect)
        )
        result: list[dict[str, Any]] = json.loads(expect.read_text())
        return result


@pytest.fixture(scope="module")
def example_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with DemoProcesses(tmp_path_factory.mktemp("example-hooks")) as processes:
        processes.env["EXAMPLE_Q_SYNC"] = "1"
        processes.prepare()
        emulator = processes.start_emulator()
        yield Shop(processes, emulator, processes.start_web())


def test_hello_lists_the_hooks_the_example_enables(example_shop: Shop) -> None:
    answer = example_shop.hook("Hello1", {"magic": "m"})
    assert answer.status == 200
    assert answer.body == {"magic": "m", "hooks": ["Hello1", "CreateDiscount4"]}
    assert example_shop.hook("SendEvent1", {"bhid": "e"}).status == 404


def test_the_handler_creates_the_code_once_and_checkout_honours_it(
    example_shop: Shop, tmp_path: Path
) -> None:
    assert example_shop.hook("CreateDiscount4", REWARD).status == 200
    assert example_shop.hook("CreateDiscount4", {**REWARD, "title": "retry"}).status == 200
    [code] = [row for row in example_shop.codes() if row["code"] == "BH-10"]
    assert (code["title"], code["percentage"], code["amount"]) == ("10 % off", "10.00", None)
    assert code["ends_at"] is None
    expected = example_shop.checkout("BH-10", "EX-7001", tmp_path)
    # 2 x 59.90 + 1 x 9.50 = 129.30; 10 % = 12.93 off; shipping 4.95.
    assert {e["path"]: e["expected"] for e in expected} == {
        "discount_codes": ["BH-10"],
        "amount_spent": "121.32",
    }
    wait_until(
        lambda: not mismatches(example_shop.emulator.state(), expected),
        timeout=30,
        what="the discounted order in the emulator",
    )
    with pytest.raises(RuntimeError, match="BH-10 has been used up"):
        example_shop.checkout("BH-10", "EX-7002", tmp_path)


@pytest.mark.parametrize(
    ("code", "extra", "reason"),
    [
        ("BH-OLD", {"end_time": "2020-01-01T00:00:00Z"}, "has expired"),
        ("BH-BIG", {"min_order_amount": "1000.00"}, "needs an order of at least 1000.00"),
        ("BH-ANN", {"customer_id": "2"}, "belongs to another customer"),
    ],
)
def test_checkout_refuses_a_code_whose_rules_the_order_breaks(
    example_shop: Shop, tmp_path: Path, code: str, extra: dict[str, str], reason: str
) -> None:
    assert example_shop.hook("CreateDiscount4", {**REWARD, "code": code, **extra}).status == 200
    with pytest.raises(RuntimeError, match=reason):
        example_shop.checkout(code, f"EX-{code}", tmp_path)


def test_checkout_refuses_an_unknown_code(example_shop: Shop, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="NOPE is not a valid code"):
        example_shop.checkout("NOPE", "EX-7099", tmp_path)


def test_a_failing_handler_answers_500_and_creates_nothing(example_shop: Shop) -> None:
    answer = example_shop.hook(
        "CreateDiscount4", {**REWARD, "code": "BH-GHOST", "customer_id": "999999"}
    )
    assert answer.status == 500
    assert answer.body["id"] == "hook_failed"
    assert "BH-GHOST" not in [row["code"] for row in example_shop.codes()]
