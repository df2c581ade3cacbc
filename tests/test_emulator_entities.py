"""The emulator's entity sets: the golden cases of seed 004, primary and secondary."""

from typing import Any

import pytest

from django_bubblehouse.testing.emulator import EmulatorState
from tests.emulator_support import DEALERS, ELIGIBLE, post


def push_entities(
    state: EmulatorState, entity_set: str, entities: list[dict[str, Any]], **extra: Any
) -> tuple[int, Any]:
    return post(state, "UpdateEntities1", {"entity_set": entity_set, "entities": entities, **extra})


def titles(state: EmulatorState, name: str, **kwargs: bool) -> dict[str, str]:
    """Active (or all) entities of a set as {id, else title: title}."""
    return {e.get("id") or e["title"]: e["title"] for e in state.entities(name, **kwargs)}


@pytest.fixture
def dealers(state):
    """Seed 004, "Creating Authorized Dealers"."""
    rows = [
        {"alt_titles": ["Wal-Mart", "Walmart Supercenter"], "id": "dealer-001", "title": "Walmart"},
        {"alt_titles": ["Target Store"], "id": "dealer-002", "title": "Target"},
    ]
    assert push_entities(state, DEALERS, rows) == (200, {"ok": True})
    return state


def test_primary_rows_create_entities_with_generated_bhids(dealers):
    rows = dealers.entities(DEALERS)
    assert [(e["id"], e["title"], e["alt_titles"]) for e in rows] == [
        ("dealer-001", "Walmart", ["Wal-Mart", "Walmart Supercenter"]),
        ("dealer-002", "Target", ["Target Store"]),
    ]
    assert len({e["bhid"] for e in rows}) == 2


def test_primary_replace_marks_unmentioned_entities_deleted(dealers):
    """Seed 004, "Full Sync with Replace Mode"."""
    rows = [{"id": "dealer-001", "title": "Walmart"}, {"id": "dealer-003", "title": "Best Buy"}]
    assert push_entities(dealers, DEALERS, rows, replace_entities=True)[0] == 200
    assert titles(dealers, DEALERS) == {"dealer-001": "Walmart", "dealer-003": "Best Buy"}
    deleted = [e["id"] for e in dealers.entities(DEALERS, include_deleted=True) if e["deleted"]]
    assert deleted == ["dealer-002"]
    # dealer-001 was updated in place, not recreated; its alt titles survive.
    assert dealers.entities(DEALERS)[0]["alt_titles"] == ["Wal-Mart", "Walmart Supercenter"]


def test_primary_lookup_by_id_else_title(dealers):
    push_entities(dealers, DEALERS, [{"title": "Walmart", "markets": ["en-US"]}])
    push_entities(dealers, DEALERS, [{"id": "dealer-009", "title": "Target"}])
    by_title: dict[str, list[dict[str, Any]]] = {}
    for entity in dealers.entities(DEALERS):
        by_title.setdefault(entity["title"], []).append(entity)
    assert by_title["Walmart"][0]["markets"] == ["en-US"]
    assert len(by_title["Walmart"]) == 1
    assert [e["id"] for e in by_title["Target"]] == ["dealer-002", "dealer-009"]


def test_primary_deleted_row_and_revival(dealers):
    push_entities(dealers, DEALERS, [{"id": "dealer-002", "deleted": True}])
    assert set(titles(dealers, DEALERS)) == {"dealer-001"}
    push_entities(dealers, DEALERS, [{"id": "dealer-002", "title": "Target"}])
    assert set(titles(dealers, DEALERS)) == {"dealer-001", "dealer-002"}


def test_localizations_and_markets_are_kept(state):
    """Seed 004, "Market-Filtered Entities" and "Localized Entity Titles"."""
    localized: dict[str, Any] = {
        "id": "dealer-global-001",
        "title": "Global Mart",
        "localizations": {
            "de-DE": {"alt_titles": ["GM Deutschland"], "title": "Global Markt"},
            "en-GB": {"alt_titles": ["GM UK"], "title": "Global Mart UK"},
        },
    }
    rows = [{"id": "dealer-uk-001", "markets": ["en-GB"], "title": "Tesco"}, localized]
    assert push_entities(state, DEALERS, rows)[0] == 200
    tesco, global_mart = state.entities(DEALERS)
    assert tesco["markets"] == ["en-GB"]
    assert global_mart["localizations"]["de-DE"]["title"] == "Global Markt"


def test_secondary_rows_update_or_create_parents_and_add_members(dealers):
    """Seed 004, "Updating Eligible Dealers"."""
    rows = [{"id": "dealer-001"}, {"title": "Ace Hardware"}]
    assert push_entities(dealers, ELIGIBLE, rows, replace_entities=True)[0] == 200
    assert titles(dealers, ELIGIBLE) == {"dealer-001": "Walmart", "Ace Hardware": "Ace Hardware"}
    assert set(titles(dealers, DEALERS)) == {"dealer-001", "dealer-002", "Ace Hardware"}


def test_secondary_replace_only_removes_membership(dealers):
    push_entities(dealers, ELIGIBLE, [{"id": "dealer-001"}, {"id": "dealer-002"}])
    push_entities(dealers, ELIGIBLE, [{"id": "dealer-002"}], replace_entities=True)
    assert set(titles(dealers, ELIGIBLE)) == {"dealer-002"}
    assert set(titles(dealers, DEALERS)) == {"dealer-001", "dealer-002"}


def test_secondary_deleted_row_removes_membership_only(dealers):
    push_entities(dealers, ELIGIBLE, [{"id": "dealer-001"}, {"id": "dealer-002"}])
    push_entities(dealers, ELIGIBLE, [{"id": "dealer-001", "deleted": True}])
    assert set(titles(dealers, ELIGIBLE)) == {"dealer-002"}
    assert set(titles(dealers, DEALERS)) == {"dealer-001", "dealer-002"}


def errors(state: EmulatorState) -> list[str]:
    return [f"{e.path}: {e.message}" for e in state.processing_errors]


def test_bhid_rows_must_match_an_active_parent_entity(dealers):
    walmart_bhid = dealers.entities(DEALERS)[0]["bhid"]
    assert push_entities(dealers, ELIGIBLE, [{"bhid": walmart_bhid}])[0] == 200
    assert set(titles(dealers, ELIGIBLE)) == {"dealer-001"}

    # An unknown bhid never creates, and never falls back to id/title.
    row = {"bhid": "nope", "id": "dealer-002", "title": "Target"}
    assert push_entities(dealers, ELIGIBLE, [row]) == (200, {"ok": True})
    assert errors(dealers) == [
        "entities[0].bhid: no active entity 'nope' in primary set 'authorized-dealers'",
        "entities: a secondary-set request is atomic: nothing was applied",
    ]
    assert set(titles(dealers, ELIGIBLE)) == {"dealer-001"}
    assert set(titles(dealers, DEALERS)) == {"dealer-001", "dealer-002"}

    # A deleted parent is not "active".
    push_entities(dealers, DEALERS, [{"id": "dealer-001", "deleted": True}])
    status, body = push_entities(dealers, ELIGIBLE, [{"bhid": walmart_bhid}], debug=True)
    assert (status, body["id"]) == (400, "invalid_request")
    assert body["errors"][0].startswith(f"entities[0].bhid: no active entity {walmart_bhid!r}")


def test_bhid_never_creates_in_a_primary_set_either(dealers):
    assert push_entities(dealers, DEALERS, [{"bhid": "nope", "title": "Aldi"}])[0] == 200
    assert "Aldi" not in titles(dealers, DEALERS).values()
    assert errors(dealers) == [
        "entities[0].bhid: no active entity 'nope' in primary set 'authorized-dealers'"
    ]


@pytest.mark.parametrize(
    "bad_row", [{"bhid": "missing"}, {"id": 7, "title": "Seven"}], ids=["unknown-bhid", "int-id"]
)
def test_secondary_requests_are_atomic(dealers, bad_row):
    rows: list[dict[str, Any]] = [{"id": "dealer-002"}, {"title": "New Dealer"}, bad_row]
    assert push_entities(dealers, ELIGIBLE, rows, replace_entities=True) == (200, {"ok": True})
    assert errors(dealers)[-1] == "entities: a secondary-set request is atomic: nothing was applied"
    assert titles(dealers, ELIGIBLE) == {}
    assert "New Dealer" not in titles(dealers, DEALERS)


def test_primary_requests_keep_good_rows_and_apply_nothing_in_debug(dealers):
    rows: list[dict[str, Any]] = [{"bhid": "missing"}, {"id": "dealer-004", "title": "Lidl"}]
    rows.append({"title": ["Aldi"]})
    assert push_entities(dealers, DEALERS, rows)[0] == 200
    assert errors(dealers) == [
        "entities[2].title: must be a string, got a list",
        "entities[0].bhid: no active entity 'missing' in primary set 'authorized-dealers'",
    ]
    assert "dealer-004" in titles(dealers, DEALERS)

    # Debug: the bhid failure shows only when applying; the request is undone and refused.
    rows = [{"bhid": "missing"}, {"id": "dealer-005", "title": "Aldi"}]
    status, body = push_entities(dealers, DEALERS, rows, debug=True)
    assert (status, body["id"]) == (400, "invalid_request")
    assert "dealer-005" not in titles(dealers, DEALERS)


def test_a_primary_replace_keeps_only_what_its_valid_rows_mention(dealers):
    rows: list[dict[str, Any]] = [{"id": "dealer-001", "title": "Walmart"}]
    rows.append({"id": "dealer-002", "title": 2})
    assert push_entities(dealers, DEALERS, rows, replace_entities=True)[0] == 200
    assert set(titles(dealers, DEALERS)) == {"dealer-001"}
    assert errors(dealers) == ["entities[1].title: must be a string, got int 2"]


def test_a_row_with_an_unknown_id_takes_over_an_entity_known_only_by_title(dealers):
    push_entities(dealers, DEALERS, [{"title": "Ace Hardware"}])
    push_entities(dealers, DEALERS, [{"id": "dealer-007", "title": "Ace Hardware"}])
    push_entities(dealers, DEALERS, [{"id": "dealer-008", "title": "Walmart"}])
    active = dealers.entities(DEALERS)
    assert [e["title"] for e in active if e.get("id") == "dealer-007"] == ["Ace Hardware"]
    assert sum(1 for e in active if e["title"] == "Ace Hardware") == 1
    # Walmart already has an id: a new id with its title is a new entity.
    assert [e["id"] for e in active if e["title"] == "Walmart"] == ["dealer-001", "dealer-008"]


def test_unknown_entity_set(state):
    status, body = push_entities(state, "no-such-set", [{"id": "x"}])
    assert (status, body) == (
        400,
        {"id": "entity_set_not_found", "message": "no entity set named 'no-such-set'"},
    )


def test_primary_replace_is_scoped_to_its_set(dealers):
    push_entities(dealers, "other-primary", [{"id": "o1", "title": "Other"}])
    push_entities(dealers, DEALERS, [{"id": "dealer-001"}], replace_entities=True)
    assert set(titles(dealers, "other-primary")) == {"o1"}
