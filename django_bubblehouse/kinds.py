"""The kinds of Bubblehouse objects this app pushes, and the API call for each."""

from enum import StrEnum


class Kind(StrEnum):
    ORDERS = "orders"
    CUSTOMERS = "customers"
    PRODUCTS = "products"
    COLLECTIONS = "collections"
    ENTITIES = "entities"

    @property
    def api_call(self) -> str:
        return _API_CALLS[self]


_API_CALLS = {
    Kind.ORDERS: "UpdateOrders4",
    Kind.CUSTOMERS: "UpdateCustomers3",
    Kind.PRODUCTS: "UpdateProducts3",
    Kind.COLLECTIONS: "UpdateProducts3",
    Kind.ENTITIES: "UpdateEntities1",
}
