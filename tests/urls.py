from django.contrib import admin
from django.urls import include, path

from django_bubblehouse.health.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("bubblehouse/", include("django_bubblehouse.pull.urls")),
    path("bubblehouse/", include("django_bubblehouse.hooks.urls")),
    path("bubblehouse/", include("django_bubblehouse.storefront.urls")),
    path("bubblehouse-health/", health),
]
