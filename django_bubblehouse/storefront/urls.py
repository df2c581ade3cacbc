"""Include with ``path("bubblehouse/", include("django_bubblehouse.storefront.urls"))``."""

from django.urls import URLPattern, path

from .views import customer_token

app_name = "bubblehouse_storefront"

urlpatterns: list[URLPattern] = [
    path("storefront/token", customer_token, name="token"),
]
