from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("bubblehouse/", include("django_bubblehouse.pull.urls")),
    path("bubblehouse/", include("django_bubblehouse.hooks.urls")),
    path("bubblehouse/", include("django_bubblehouse.storefront.urls")),
]
