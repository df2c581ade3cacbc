"""What the emulator holds: its configuration, the shop's data and every request received."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .entities import EntitySet
from .faults import FaultConfig, FaultInjector
from .rate_limit import RateLimiter
from .rules import DOCUMENTED_VERSIONS
from .tokens import ShopKey

DEFAULT_VERSION = DOCUMENTED_VERSIONS[0]
# A throwaway base64 secret, so the emulator can start with no configuration at all.
DEMO_SECRET = "ZW11bGF0b3ItZGVtby1zZWNyZXQtbm90LWZvci1wcm9k"

Record = dict[str, Any]


@dataclass(frozen=True)
class Key:
    """One of the shop's shared secrets (base64, as Bubblehouse issues it) and its key id."""

    kid: str
    secret: str


@dataclass
class EmulatorConfig:
    shop: str = "demo"
    keys: tuple[ShopKey, ...] = (Key("demo-kid", DEMO_SECRET),)
    # Any version in none of these three answers invalid_global_api_version.
    api_versions: frozenset[str] = frozenset(DOCUMENTED_VERSIONS)
    obsolete_versions: frozenset[str] = frozenset()
    inaccessible_versions: frozenset[str] = frozenset()
    # entity set name -> parent primary set (None for a primary set)
    entity_sets: dict[str, str | None] = field(default_factory=dict)
    # Ordinary keys cannot delete orders; "deleted": true is then ignored with a warning.
    allow_order_delete: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received. The Authorization header is deliberately not kept."""

    method: str
    path: str
    func: str | None
    body: Any
    status: int | None
    error_id: str | None
    problems: tuple[str, ...]
    fault: str | None
    received_at: float

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class ProcessingError:
    """An object accepted with 200 but not applied: what Bubblehouse reports by email later."""

    request: int  # index into ``EmulatorState.requests``
    func: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.func} (request {self.request}) {self.path}: {self.message}"


class EmulatorState:
    """The shop as Bubblehouse would see it. All access goes through ``lock``.

    ``clock`` (monotonic seconds) drives the rate limit; tests may pass their own.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.config = config or EmulatorConfig()
        self.reset()

    def reset(self, config: EmulatorConfig | None = None) -> None:
        """Forget all data and requests; optionally switch to a new configuration."""
        with self.lock:
            if config is not None:
                self.config = config
            self.customers: dict[str, Record] = {}
            self.products: dict[str, Record] = {}
            self.collections: dict[str, Record] = {}
            self.orders: dict[str, Record] = {}
            self.requests: list[RecordedRequest] = []
            self.processing_errors: list[ProcessingError] = []
            self.entity_sets = {
                name: EntitySet(name, parent) for name, parent in self.config.entity_sets.items()
            }
            self.set_faults(self.config.faults)

    def set_faults(self, faults: FaultConfig) -> None:
        with self.lock:
            self.config.faults = faults
            self.faults = FaultInjector(faults)
            self.rate_limiter = RateLimiter(faults.rate_limit, self.clock)

    # -- inspection -----------------------------------------------------------------

    def entity_set(self, name: str) -> EntitySet:
        return self.entity_sets[name]

    def entities(self, name: str, *, include_deleted: bool = False) -> list[Record]:
        """Rows of a set as dicts (``bhid``, ``deleted`` and the pushed fields).

        For a secondary set: its members, read from the parent primary set.
        """
        with self.lock:
            entity_set = self.entity_sets[name]
            primary = self.entity_sets[entity_set.parent] if entity_set.parent else entity_set
            chosen = (
                [primary.by_bhid[b] for b in entity_set.members]
                if entity_set.parent
                else list(primary.by_bhid.values())
            )
            return [e.as_dict() for e in chosen if include_deleted or not e.deleted]

    def calls(self, func: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.func == func]

    def summary(self) -> dict[str, Any]:
        """A JSON-ready snapshot of everything held (served at ``/_emulator/state``)."""
        with self.lock:
            return {
                "shop": self.config.shop,
                "customers": self.customers,
                "products": self.products,
                "collections": self.collections,
                "orders": self.orders,
                "entity_sets": {
                    name: {
                        "parent": s.parent,
                        "entities": self.entities(name, include_deleted=True),
                    }
                    for name, s in self.entity_sets.items()
                },
                "processing_errors": [dataclasses.asdict(e) for e in self.processing_errors],
                "request_count": len(self.requests),
            }

    # -- applying pushes --------------------------------------------------------------

    def record(self, request: RecordedRequest, errors: Iterable[ProcessingError] = ()) -> None:
        with self.lock:
            self.requests.append(request)
            self.processing_errors.extend(errors)

    def upsert_customer(self, data: Mapping[str, Any]) -> str:
        """Create or merge a customer; keyed by id, or ``email:<email>`` without one."""
        email = data.get("email")
        email_key = f"email:{email.lower()}" if isinstance(email, str) else None
        key = data.get("id") or email_key
        assert isinstance(key, str)  # the rules require an id or an email
        # A guest later pushed with an id keeps the record it had as a guest.
        if "id" in data and email_key in self.customers and key not in self.customers:
            self.customers[key] = self.customers.pop(email_key)
        _merge(self.customers, key, data)
        return key

    def upsert_product(self, data: Mapping[str, Any]) -> None:
        fields = {k: v for k, v in data.items() if k != "variants"}
        record = _merge(self.products, data["id"], fields)
        variants: dict[str, Record] = record.setdefault("variants", {})
        for variant in data.get("variants", ()):
            _merge(variants, variant["id"], variant)

    def upsert_collection(self, data: Mapping[str, Any]) -> None:
        _merge(self.collections, data["id"], data)

    def upsert_order(self, data: Mapping[str, Any]) -> None:
        customer_key = self.upsert_customer(data["customer"])
        for item in data.get("items", ()):
            self.upsert_product(item["product"])
        fields = dict(data)
        if not self.config.allow_order_delete:
            fields.pop("deleted", None)
        record = _merge(self.orders, data["id"], fields)
        record["customer_key"] = customer_key

    def replace(self, records: dict[str, Record], mentioned: Iterable[str]) -> None:
        """``replace_*``: every record not mentioned is marked deleted."""
        keep = set(mentioned)
        for key, record in records.items():
            if key not in keep:
                record["deleted"] = True


def _merge(records: dict[str, Record], key: str, data: Mapping[str, Any]) -> Record:
    """A push updates the fields it carries; an update without "deleted" revives a record."""
    record = records.setdefault(key, {"deleted": False})
    record.update(data)
    record["deleted"] = data.get("deleted") is True
    return record
