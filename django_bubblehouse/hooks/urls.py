"""Include with ``path("bubblehouse/", include("django_bubblehouse.hooks.urls"))``.

Register ``https://<your shop>/bubblehouse/hooks/:name`` with Bubblehouse.
"""

from django.urls import URLPattern, path

from .views import HookView

app_name = "bubblehouse_hooks"

urlpatterns: list[URLPattern] = [
    path("hooks/<str:name>", HookView.as_view(), name="hook"),
]
