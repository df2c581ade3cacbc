"""Include with ``path("bubblehouse/", include("django_bubblehouse.pull.urls"))``."""

from django.urls import URLPattern, path

from ..kinds import Kind
from .formats import CONTENT_TYPES
from .views import FeedView, OrderView

app_name = "bubblehouse_pull"

FEED_KINDS = (Kind.ORDERS, Kind.CUSTOMERS, Kind.PRODUCTS)

urlpatterns: list[URLPattern] = [
    path(
        f"{kind}.{feed_format}",
        FeedView.as_view(kind=kind, feed_format=feed_format),
        name=f"{kind}-{feed_format}",
    )
    for kind in FEED_KINDS
    for feed_format in CONTENT_TYPES
]
urlpatterns.append(path("orders/<str:key>/", OrderView.as_view(), name="order"))
