"""The emulator over real loopback HTTP, fault injection and the responses adapter."""

import dataclasses
import json
import socket
import subprocess
import sys
from typing import Any

import pytest
import requests
import responses

from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.client import BubblehouseClient
from django_bubblehouse.conf import get_settings
from django_bubblehouse.exceptions import TransientAPIError
from django_bubblehouse.testing.emulator import (
    EmulatorConfig,
    EmulatorServer,
    EmulatorState,
    FaultConfig,
    handle,
)
from django_bubblehouse.testing.emulator.faults import FaultInjector
from django_bubblehouse.testing.emulator.responses_adapter import add_emulator

CUSTOMERS = {"customers": [{"id": "c1", "email": "ann@example.com"}]}


@pytest.fixture
def server():
    conf = get_settings()
    state = EmulatorState(EmulatorConfig(shop=conf.shop, keys=conf.keys))
    with EmulatorServer(state) as running:
        yield running


def push(
    server: EmulatorServer,
    body: object = CUSTOMERS,
    timeout: float | tuple[float, float] = 5.0,
) -> requests.Response:
    return requests.post(
        f"{server.url}/api/v2023061/{get_settings().shop}/UpdateCustomers3",
        json=body,
        headers={"Authorization": f"Bearer {mint_shop_token()}"},
        timeout=timeout,
    )


def test_a_push_over_http_is_applied_and_inspectable(server):
    response = push(server)
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert server.state.customers["c1"]["email"] == "ann@example.com"

    state = requests.get(f"{server.url}/_emulator/state", timeout=5).json()
    assert state["customers"]["c1"]["email"] == "ann@example.com"
    log = requests.get(f"{server.url}/_emulator/requests", timeout=5).json()
    assert [(r["func"], r["status"]) for r in log] == [("UpdateCustomers3", 200)]
    assert "authorization" not in json.dumps(log).lower()

    assert requests.post(f"{server.url}/_emulator/reset", timeout=5).json() == {"ok": True}
    assert server.state.customers == {}


def test_the_shared_client_talks_to_the_emulator(server):
    client = BubblehouseClient(dataclasses.replace(get_settings(), api_host=server.url))
    client.update_customers(CUSTOMERS["customers"])
    assert set(server.state.customers) == {"c1"}


def test_error_bodies_and_processing_errors_over_http(server):
    response = push(server, {"customers": {"id": "c1"}})
    assert response.status_code == 400
    assert response.json()["id"] == "invalid_request"
    assert requests.get(f"{server.url}/_emulator/nothing", timeout=5).status_code == 404

    assert push(server, {"customers": [{"id": 1}]}).json() == {"ok": True}
    state = requests.get(f"{server.url}/_emulator/state", timeout=5).json()
    assert state["processing_errors"] == [
        {
            "request": 1,
            "func": "UpdateCustomers3",
            "path": "customers[0].id",
            "message": "must be a non-empty string id, got int 1",
        }
    ]


def test_faults_endpoint_configures_injection(server):
    queue = {"queue": ["503", "429"], "retry_after": 7}
    assert requests.post(f"{server.url}/_emulator/faults", json=queue, timeout=5).ok
    first, second, third = push(server), push(server), push(server)
    assert first.status_code == 503
    assert (second.status_code, second.headers["Retry-After"]) == (429, "7")
    assert second.json()["id"] == "rate_limit_exceeded"
    assert third.status_code == 200
    assert [r.fault for r in server.state.requests] == ["503", "429", None]
    bad = requests.post(f"{server.url}/_emulator/faults", json={"rates": {"x": 1}}, timeout=5)
    assert bad.status_code == 400


def test_a_connection_reset_is_a_connection_error(server):
    server.state.set_faults(FaultConfig(queue=["reset"]))
    with pytest.raises(requests.ConnectionError):
        push(server)
    assert server.state.customers == {}
    assert server.state.requests[-1].status is None
    client = BubblehouseClient(dataclasses.replace(get_settings(), api_host=server.url))
    server.state.set_faults(FaultConfig(queue=["reset"]))
    with pytest.raises(TransientAPIError, match=r"connection to .* failed"):
        client.update_customers(CUSTOMERS["customers"])


def test_a_stalled_response_is_a_read_timeout(server):
    # The server stalls far beyond the client's tiny read timeout; stop() wakes it.
    server.state.set_faults(FaultConfig(queue=["timeout"], timeout_delay=30))
    with pytest.raises(requests.ReadTimeout):
        push(server, timeout=(2, 0.2))
    # The request itself was processed: the client just never heard back.
    assert set(server.state.customers) == {"c1"}


def test_small_latency_is_added(server):
    server.state.set_faults(FaultConfig(latency=(0.05, 0.05)))
    assert push(server).elapsed.total_seconds() >= 0.05


def test_fault_decisions_are_deterministic_for_a_seed():
    config = FaultConfig(seed=42, rates={"500": 0.2, "503": 0.1, "429": 0.1, "reset": 0.1})
    injectors = [FaultInjector(config), FaultInjector(config)]
    draws = [[injector.next_fault().kind for _ in range(200)] for injector in injectors]
    assert draws[0] == draws[1]
    assert set(draws[0]) == {"", "500", "503", "429", "reset"}
    assert 40 < draws[0].count("") < 140
    other = FaultInjector(dataclasses.replace(config, seed=43))
    assert [other.next_fault().kind for _ in range(200)] != draws[0]


def test_queued_faults_come_first_and_latency_is_in_range():
    injector = FaultInjector(FaultConfig(queue=["500", "timeout"], latency=(0.1, 0.2)))
    faults = [injector.next_fault() for _ in range(3)]
    assert [f.kind for f in faults] == ["500", "timeout", ""]
    assert [f.status for f in faults] == [500, None, None]
    assert all(0.1 <= f.delay <= 0.2 for f in faults)


@pytest.mark.parametrize(
    "config",
    [{"rates": {"oops": 0.1}}, {"rates": {"500": 0.8, "503": 0.3}}, {"latency": (2.0, 1.0)}],
)
def test_bad_fault_configs_are_refused(config):
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        FaultConfig(**config)


def test_the_responses_adapter_serves_the_emulator_in_process():
    conf = get_settings()
    state = EmulatorState(EmulatorConfig(shop=conf.shop, keys=conf.keys))
    state.set_faults(FaultConfig(queue=["reset", "timeout"]))
    with responses.RequestsMock() as rsps:
        add_emulator(rsps, state, "https://bubblehouse.test")
        client = BubblehouseClient()
        with pytest.raises(TransientAPIError, match=r"connection to .* failed"):
            client.update_customers(CUSTOMERS["customers"])
        with pytest.raises(TransientAPIError, match="timed out"):
            client.update_customers(CUSTOMERS["customers"])
        client.update_customers(CUSTOMERS["customers"])
    assert [r.fault for r in state.requests] == ["reset", "timeout", None]
    assert set(state.customers) == {"c1"}


def test_cli_inspect_prints_a_running_emulator(server):
    push(server)
    command = [sys.executable, "-m", "django_bubblehouse.testing.emulator", "inspect"]
    output = subprocess.run(
        [*command, "--url", server.url], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert json.loads(output)["customers"]["c1"]["email"] == "ann@example.com"


def test_cli_builds_its_config_from_arguments():
    from django_bubblehouse.testing.emulator.__main__ import config_from, serve_parser

    args = serve_parser().parse_args(
        ["--shop", "s", "--entity-set", "a", "--entity-set", "b:a", "--faults", "503=0.5"]
    )
    config = config_from(args)
    assert (config.shop, config.entity_sets) == ("s", {"a": None, "b": "a"})
    assert config.faults.rates == {"503": 0.5}
    assert config.api_versions == {"v2023061", "v20230601"}
    assert (config.faults.retry_after, config.faults.rate_limit) == (None, None)

    versions = ["--api-version", "v2025011", "--obsolete-version", "v2022011"]
    limits = ["--inaccessible-version", "v2024011", "--rate-limit", "5", "--retry-after", "3"]
    args = serve_parser().parse_args([*versions, *limits])
    config = config_from(args)
    assert config.api_versions == frozenset({"v2025011"})
    assert config.obsolete_versions == frozenset({"v2022011"})
    assert config.inaccessible_versions == frozenset({"v2024011"})
    assert (config.faults.retry_after, config.faults.rate_limit) == (3, 5)


def test_cli_inspect_errors_lists_processing_errors_and_fails_when_there_are_any(server):
    command = [sys.executable, "-m", "django_bubblehouse.testing.emulator", "inspect"]
    clean = subprocess.run(
        [*command, "--url", server.url, "--errors"], capture_output=True, text=True, timeout=30
    )
    assert (clean.returncode, json.loads(clean.stdout)) == (0, [])
    push(server, {"customers": [{"email": 7}]})
    dirty = subprocess.run(
        [*command, "--url", server.url, "--errors"], capture_output=True, text=True, timeout=30
    )
    assert dirty.returncode == 1
    assert [(e["path"], e["func"]) for e in json.loads(dirty.stdout)] == [
        ("customers[0].email", "UpdateCustomers3")
    ]


# -- rate limit, Retry-After, Nagle -----------------------------------------------------


def test_an_injected_429_sends_retry_after_only_when_configured(server):
    server.state.set_faults(FaultConfig(queue=["429"]))
    response = push(server)
    assert (response.status_code, response.json()["id"]) == (429, "rate_limit_exceeded")
    assert "Retry-After" not in response.headers
    assert push(server).headers.get("Retry-After") is None  # nor on a success


def test_the_rate_limit_is_per_shop_per_second_with_retry_after():
    conf = get_settings()
    now = [100.0]
    state = EmulatorState(
        EmulatorConfig(shop=conf.shop, keys=conf.keys, faults=FaultConfig(rate_limit=2)),
        clock=lambda: now[0],
    )

    def call() -> tuple[int, Any, dict[str, str]]:
        path = f"/api/v2023061/{conf.shop}/UpdateCustomers3"
        headers = {
            "Authorization": f"Bearer {mint_shop_token()}",
            "Content-Type": "application/json",
        }
        reply = handle(state, "POST", path, headers, json.dumps(CUSTOMERS).encode())
        return reply.status, reply.body, reply.headers

    assert [call()[0] for _ in range(2)] == [200, 200]
    now[0] += 0.4
    status, body, headers = call()
    assert (status, body["id"], headers) == (429, "rate_limit_exceeded", {"Retry-After": "1"})
    assert len(state.customers) == 1
    assert len(state.requests) == 3
    now[0] += 0.6  # the first two leave the one-second window
    assert call()[0] == 200
    assert [r.status for r in state.requests] == [200, 200, 429, 200]


def test_the_client_sees_the_rate_limit_as_transient_with_retry_after(server):
    server.state.set_faults(FaultConfig(rate_limit=1))
    client = BubblehouseClient(dataclasses.replace(get_settings(), api_host=server.url))
    client.update_customers(CUSTOMERS["customers"])
    with pytest.raises(TransientAPIError) as caught:
        client.update_customers(CUSTOMERS["customers"])
    assert (caught.value.status, caught.value.error_id) == (429, "rate_limit_exceeded")
    assert caught.value.retry_after == 1


def test_responses_go_out_with_nagle_off(server, monkeypatch):
    """Headers and body are two writes; with Nagle on, keep-alive requests wait ~40 ms each."""
    from django_bubblehouse.testing.emulator import server as server_module

    seen: list[int] = []
    original = server_module._Handler.setup

    def setup(handler: Any) -> None:  # runs before the connection's first request is read
        original(handler)
        seen.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(server_module._Handler, "setup", setup)
    with requests.Session() as session:
        for _ in range(3):
            response = session.post(
                f"{server.url}/api/v2023061/{get_settings().shop}/UpdateCustomers3",
                json=CUSTOMERS,
                headers={"Authorization": f"Bearer {mint_shop_token()}"},
                timeout=5,
            )
            assert response.status_code == 200
    assert seen
    assert all(seen)
