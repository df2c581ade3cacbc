"""Entities (Entity1) of one named entity set."""

from __future__ import annotations

from ..kinds import Kind
from .base import Serializer


class EntitySerializer(Serializer):
    """Entity1 rows of ``entity_set``; one serializer per (model, entity set).

    A primary set sets only ``entity_set``. A secondary set (a subset of a
    primary set) also names its primary set in ``parent_set``; there,
    :meth:`is_deleted` means "not a member", and the delete payload
    ``{"id": ..., "deleted": true}`` removes the entity from this set only.
    """

    kind = Kind.ENTITIES
