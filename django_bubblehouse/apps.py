from django.apps import AppConfig


class BubblehouseConfig(AppConfig):
    name = "django_bubblehouse"
    label = "django_bubblehouse"
    verbose_name = "Bubblehouse"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registering checks and receivers only; no database work here.
        from . import checks  # noqa: F401
