"""Fields built from other fields or serializers: lists, nested payloads, methods, extras."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Field, FieldError, Getter, Representer, iterate
from .scalars import ScalarField, StringField


class ListField(Field):
    """Each element through ``child`` (default: unchanged); a manager means ``.all()``."""

    def __init__(
        self, child: Field | None = None, source: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(source, **kwargs)
        self.child = child or Field()
        self._child: Getter | None = None

    def build(self, serializer: Representer, raw: Any) -> list[Any]:
        result = []
        child = self._child
        if child is None:
            child = self._child = self.child.compiled()
        for index, element in enumerate(iterate(raw)):
            try:
                item = child(serializer, element)
                if item is None:
                    raise FieldError("must not be None")
            except FieldError as error:
                raise error.within(f"[{index}]") from error
            result.append(item)
        return result


class StringListField(ListField):
    """A list of strings, e.g. ``alt_titles``, ``markets`` or ``tags``."""

    def __init__(self, source: str | None = None, **kwargs: Any) -> None:
        super().__init__(StringField(omit_empty=False), source, **kwargs)


class NestedField(Field):
    """Another serializer's payload (``many=True``: one per element).

    ``only`` limits it to some of that serializer's fields, e.g. a product
    reference ``("id", "title", "collection_ids")`` on an order line.
    """

    def __init__(
        self,
        serializer: type[Representer],
        source: str | None = None,
        *,
        many: bool = False,
        only: tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(source, **kwargs)
        self.serializer = serializer
        self.many = many
        self.only = only

    def build(self, serializer: Representer, raw: Any) -> Any:
        nested = self.serializer()
        if not self.many:
            return nested.represent(raw, self.only)
        result = []
        for index, element in enumerate(iterate(raw)):
            try:
                result.append(nested.represent(element, self.only))
            except FieldError as error:
                raise error.within(f"[{index}]") from error
        return result


class MethodField(Field):
    """``get_<name>(obj)`` on the serializer, its result converted by ``field`` if given."""

    def __init__(
        self, field: Field | None = None, *, method_name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__("*", **kwargs)
        self.field = field
        self.method_name = method_name

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        self.method_name = self.method_name or f"get_{name}"

    def get_attribute(self, serializer: Representer, obj: Any) -> Any:
        return getattr(serializer, self.method_name or f"get_{self.name}")(obj)

    def build(self, serializer: Representer, raw: Any) -> Any:
        return self.field.build(serializer, raw) if self.field else raw


class ExtrasField(Field):
    """Customer ``extras`` from an explicit allow-list: ``{extras key: dotted source}``.

    There is deliberately no "every attribute" mode: extras leave the shop.
    """

    omit_empty_default = True

    def __init__(self, allow: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__("*", **kwargs)
        self.allow = dict(allow)
        self._values = tuple((key, ScalarField(source).compiled()) for key, source in allow.items())

    def build(self, serializer: Representer, raw: Any) -> dict[str, Any]:
        result = {}
        for key, value_of in self._values:
            try:
                item = value_of(serializer, raw)
            except FieldError as error:
                raise error.within(key) from error
            if item is not None:
                result[key] = item
        return result
