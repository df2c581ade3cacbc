from django.apps import AppConfig


class FrameworkShopConfig(AppConfig):
    name = "tests.framework_shop"
    label = "framework_shop"
    default_auto_field = "django.db.models.BigAutoField"
