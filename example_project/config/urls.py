from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from shop.views import rewards

from django_bubblehouse.health.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("bubblehouse/", include("django_bubblehouse.pull.urls")),
    # Register https://<shop>/bubblehouse/hooks/:name in the Bubblehouse API settings.
    path("bubblehouse/", include("django_bubblehouse.hooks.urls")),
    path("bubblehouse/", include("django_bubblehouse.storefront.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/rewards/"), name="logout"),
    path("rewards/", rewards, name="rewards"),
    path("bubblehouse/health/", health),
]
