from django.apps import AppConfig


class BubblehouseConfig(AppConfig):
    name = "django_bubblehouse"
    label = "django_bubblehouse"
    verbose_name = "Bubblehouse"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registering checks and receivers only; no database work here.
        from django.db.models.signals import post_migrate

        from . import checks, receivers  # noqa: F401
        from .outbox.wakeup import create_drain_request_row

        receivers.connect()
        post_migrate.connect(create_drain_request_row, sender=self)
