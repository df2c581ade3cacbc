"""The framework shop's whole Bubblehouse wiring: what a shop puts in BUBBLEHOUSE."""

SERIALIZERS = [
    "tests.framework_shop.bubblehouse.OrderSerializer",
    "tests.framework_shop.bubblehouse.CustomerSerializer",
    "tests.framework_shop.bubblehouse.ProductSerializer",
    "tests.framework_shop.bubblehouse.CategorySerializer",
]
# The framework's free-text statuses.
ORDER_STATUS_MAP = {
    "Pending": "unconfirmed",
    "Being processed": "confirmed",
    "Complete": "completed",
    "Cancelled": "canceled",
    "Refunded": "canceled",
}
