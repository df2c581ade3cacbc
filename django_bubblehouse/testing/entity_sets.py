"""Which entity sets an emulator should know: given in settings, or those the serializers push."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

EntitySets = dict[str, str | None]


def parse_entity_sets(value: Mapping[str, str | None] | Iterable[str]) -> EntitySets:
    """``{"name": parent-or-None}`` from a dict, or from ``"name[:parent]"`` strings."""
    if isinstance(value, Mapping):
        return {str(name): parent or None for name, parent in value.items()}
    pairs = (item.partition(":") for item in value)
    return {name: parent or None for name, _, parent in pairs}


def entity_sets_from_serializers() -> EntitySets:
    """The sets the registered entity serializers push to (parents count as primary sets)."""
    from ..serializers.registry import all_serializers

    sets: EntitySets = {}
    for serializer in all_serializers():
        name = getattr(serializer, "entity_set", None)
        if name:
            parent = getattr(serializer, "parent_set", None)
            sets[name] = parent
            if parent:
                sets.setdefault(parent, None)
    return sets
