"""The example shop's serializers against the emulator's strict validation, every kind.

The example project runs under its own settings, so it runs in subprocesses
(the same helpers as ``make demo``): DEBUG_MODE on, so every request says
``"debug": true`` and the emulator turns warnings into errors; django-q2 in
sync mode, so the live changes are drained inline without a worker.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "example_project"
sys.path.insert(0, str(EXAMPLE_DIR))

from demo_checks import active_ids, mismatches  # noqa: E402
from demo_processes import PRIMARY_SET, SECONDARY_SET, DemoProcesses  # noqa: E402


def test_every_kind_passes_strict_validation(tmp_path: Path) -> None:
    with DemoProcesses(tmp_path, debug_mode=True) as shop:
        shop.env["EXAMPLE_Q_SYNC"] = "1"
        shop.prepare()
        emulator = shop.start_emulator()
        shop.manage("bubblehouse_backfill", "--no-progress")
        shop.manage("demo_live_changes", "--expect", str(tmp_path / "expected.json"))
        for entity_set in (PRIMARY_SET, SECONDARY_SET):
            args = ("entities", "--entity-set", entity_set, "--replace", "--yes")
            shop.manage("bubblehouse_backfill", *args)
        rows: list[dict[str, Any]] = json.loads(shop.manage("dumpdata", "shop"))
        requests = emulator.requests()
        state = emulator.state()

    assert [r for r in requests if r["status"] != 200] == []
    assert state["processing_errors"] == []
    assert {r["func"] for r in requests} == {
        "UpdateOrders4",
        "UpdateCustomers3",
        "UpdateProducts3",
        "UpdateEntities1",
    }
    assert all(r["body"]["debug"] is True for r in requests)

    counts = Counter(row["model"] for row in rows)
    assert len(state["orders"]) == counts["shop.order"]
    assert len(state["products"]) == counts["shop.product"]
    assert len(state["collections"]) == counts["shop.collection"]
    registered = [key for key in state["customers"] if not key.startswith("email:")]
    assert len(registered) == counts["shop.customer"]
    dealers = [row["fields"] for row in rows if row["model"] == "shop.dealer"]
    assert active_ids(state, PRIMARY_SET) == sorted(d["code"] for d in dealers if d["is_active"])
    assert active_ids(state, SECONDARY_SET) == sorted(
        d["code"] for d in dealers if d["is_active"] and d["spring_cleaning_eligible"]
    )

    expectations = json.loads((tmp_path / "expected.json").read_text())
    assert len(expectations) > 10
    assert mismatches(state, expectations) == []
