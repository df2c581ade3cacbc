"""The pytest plugin's fixtures, used the way a host project would use them."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from django_bubblehouse.client import BubblehouseClient
from django_bubblehouse.conf import get_settings
from django_bubblehouse.testing.pytest_plugin import parse_entity_sets

DEALERS = "authorized-dealers"
ELIGIBLE = "spring-cleaning-eligible-dealers"


def test_settings_point_at_the_emulator_and_pushes_land_in_its_state(bubblehouse_emulator):
    conf = get_settings()
    assert conf.api_host.startswith("http://127.0.0.1:")
    assert conf.shop == "testshop"
    assert bubblehouse_emulator.config.keys == conf.keys

    BubblehouseClient().update_customers([{"id": "c1", "email": "ann@example.com"}])
    assert bubblehouse_emulator.customers["c1"]["email"] == "ann@example.com"
    state = requests.get(f"{conf.api_host}/_emulator/state", timeout=5).json()
    assert state["customers"]["c1"]["email"] == "ann@example.com"


def test_each_test_starts_empty(bubblehouse_emulator):
    assert bubblehouse_emulator.customers == {}
    assert bubblehouse_emulator.requests == []


def test_default_entity_sets_come_from_the_registered_serializers(bubblehouse_emulator):
    assert {name: s.parent for name, s in bubblehouse_emulator.entity_sets.items()} == {
        DEALERS: None,
        ELIGIBLE: DEALERS,
    }
    BubblehouseClient().update_entities(ELIGIBLE, [{"id": "d1", "title": "Walmart"}])
    assert [e["id"] for e in bubblehouse_emulator.entities(DEALERS)] == ["d1"]


def test_entity_sets_parse_from_a_list_or_a_dict():
    expected = {"stores": None, "summer": "stores"}
    assert parse_entity_sets(["stores", "summer:stores"]) == expected
    assert parse_entity_sets({"stores": "", "summer": "stores"}) == expected


@pytest.fixture
def stores_setting(settings):
    settings.BUBBLEHOUSE_EMULATOR_ENTITY_SETS = {"stores": None, "summer": "stores"}


def test_the_entity_sets_setting_is_read_by_the_fixture(stores_setting, bubblehouse_emulator):
    assert set(bubblehouse_emulator.entity_sets) == {"stores", "summer"}


class TestOverriddenEntitySets:
    @pytest.fixture
    def bubblehouse_entity_sets(self):
        return {"stores": None}

    def test_an_overridden_fixture_chooses_the_sets(self, bubblehouse_emulator):
        assert list(bubblehouse_emulator.entity_sets) == ["stores"]


@pytest.fixture
def no_credentials(settings):
    settings.BUBBLEHOUSE = {"SHOP": "", "SERIALIZERS": []}


def test_missing_credentials_are_generated(no_credentials, bubblehouse_emulator):
    conf = get_settings()
    assert conf.shop == "testshop"
    assert conf.keys[0].kid == "emulator-kid"
    BubblehouseClient().update_customers([{"email": "guest@example.com"}])
    assert set(bubblehouse_emulator.customers) == {"email:guest@example.com"}


def test_plugin_is_import_safe_without_django_settings(tmp_path):
    (tmp_path / "test_plain.py").write_text(
        textwrap.dedent(
            """
            def test_plain(request):
                assert request.config.pluginmanager.has_plugin("bubblehouse")
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- strictness -------------------------------------------------------------------------

HOST_TESTS = """
import pytest
from django_bubblehouse.client import BubblehouseClient

def push_a_bad_customer():
    BubblehouseClient().update_customers([{"id": 7, "email": "ann@example.com"}])

def test_a_serializer_bug(bubblehouse_emulator):
    push_a_bad_customer()  # answered 200, as Bubblehouse does

@pytest.mark.bubblehouse_allow_processing_errors
def test_expected_errors(bubblehouse_emulator):
    push_a_bad_customer()
    assert bubblehouse_emulator.processing_errors[0].path == "customers[0].id"

class TestLenient:
    @pytest.fixture
    def bubblehouse_strict(self):
        return False

    def test_errors_allowed_by_fixture(self, bubblehouse_emulator):
        push_a_bad_customer()

def test_consumed_errors(bubblehouse_emulator):
    push_a_bad_customer()
    assert len(bubblehouse_emulator.processing_errors) == 1
    bubblehouse_emulator.processing_errors.clear()
"""


def test_processing_errors_fail_the_test_at_teardown_unless_allowed(tmp_path):
    (tmp_path / "test_host.py").write_text(HOST_TESTS)
    options = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--rootdir", str(tmp_path)]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *options,
            "-c",
            os.devnull,
            "--ds",
            "tests.settings",
            str(tmp_path),
        ],
        cwd=Path(__file__).resolve().parent.parent,  # where tests.settings imports from
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "4 passed, 1 error" in output, output
    assert "ERROR at teardown of test_a_serializer_bug" in output
    assert "Bubblehouse would report 1 processing error(s)" in output
    assert "UpdateCustomers3 (request 0) customers[0].id: must be a non-empty string id" in output
    assert "@pytest.mark.bubblehouse_allow_processing_errors" in output


@pytest.fixture
def newer_api_version(settings):
    settings.BUBBLEHOUSE = {**settings.BUBBLEHOUSE, "API_VERSION": "v2025011"}


def test_the_fixture_honours_the_hosts_api_version(newer_api_version, bubblehouse_emulator):
    assert get_settings().api_version == "v2025011"
    BubblehouseClient().update_customers([{"id": "c1"}])
    (request,) = bubblehouse_emulator.requests
    assert (request.path, request.status) == ("/api/v2025011/testshop/UpdateCustomers3", 200)
    assert {"v2023061", "v20230601"} <= bubblehouse_emulator.config.api_versions


@pytest.mark.django_db
def test_a_change_after_a_drain_in_the_same_test_is_pushed_by_the_next(
    bubblehouse_emulator, bubblehouse_drain
):
    from tests import shop_factories as shop

    customer = shop.customer(first_name="Ada")
    assert bubblehouse_drain().sent == 1
    customer.first_name = "Augusta"
    customer.save()  # the test's one transaction is still open: no commit in between
    assert bubblehouse_drain().sent == 1
    assert bubblehouse_emulator.customers[str(customer.pk)]["first_name"] == "Augusta"
