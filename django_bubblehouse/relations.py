"""``Serializer.related``: from a changed row of another model to the serialized object's key.

An entry ``"app_label.Model": "attribute"`` is either

- a forward foreign key (or one-to-one) from that model to the serialized one
  (``"shop.OrderLine": "order"``): the key is the row's own column, no query;
- or the reverse accessor of a one-to-one from the serialized model to that
  model (``"auth.User": "customer"`` for ``Customer.user``): the key is the
  cached profile's, or one ``values_list`` query on the profile's column.

The system checks and the receivers both resolve an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db.models import ForeignKey, Model, OneToOneRel


@dataclass(frozen=True)
class ForwardLink:
    """The changed row holds the serialized object's key in one of its columns."""

    attname: str

    def key(self, instance: Model, using: str | None) -> str | None:
        value = getattr(instance, self.attname)
        return None if value is None else str(value)


@dataclass(frozen=True)
class ReverseOneToOneLink:
    """The serialized object holds a one-to-one to the changed row (a profile of a user)."""

    rel: OneToOneRel

    def key(self, instance: Model, using: str | None) -> str | None:
        # A profile already loaded through the accessor costs no query; a cached "no
        # profile" is not trusted, since one may have been created since.
        cached = self.rel.get_cached_value(instance, default=None)
        if cached is not None:
            return str(cached.pk)
        field = self.rel.field
        value = getattr(instance, field.target_field.attname)
        if value is None:
            return None
        manager = field.model._default_manager.db_manager(using)
        found = manager.filter(**{field.attname: value}).values_list("pk", flat=True)[:1]
        return next((str(pk) for pk in found), None)


ParentLink = ForwardLink | ReverseOneToOneLink


def parent_link(related: type[Model], attribute: str, serialized: type[Model]) -> ParentLink | None:
    """How a change to ``related`` finds its ``serialized`` object; None if ``attribute``
    is neither kind of link between the two models."""
    target = serialized._meta.concrete_model
    try:
        field = related._meta.get_field(attribute)
    except FieldDoesNotExist:
        field = None
    if isinstance(field, ForeignKey):  # OneToOneField included
        remote = field.related_model
        if isinstance(remote, type) and remote._meta.concrete_model is target:
            return ForwardLink(field.attname)
        return None
    for rel in related._meta.related_objects:
        # Matched by accessor name: that is what the host writes (instance.<accessor>).
        if (
            isinstance(rel, OneToOneRel)
            and rel.get_accessor_name() == attribute
            and rel.related_model._meta.concrete_model is target
        ):
            return ReverseOneToOneLink(rel)
    return None
