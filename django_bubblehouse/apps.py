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
        self._sweep_on_worker_start()

    def _sweep_on_worker_start(self) -> None:
        from django.apps import apps

        if not apps.is_installed("django_q"):  # reported by check bubblehouse.E013
            return
        from django_q.signals import post_spawn

        from .tasks import sweep_on_worker_start

        post_spawn.connect(sweep_on_worker_start, dispatch_uid="django_bubblehouse.worker_start")
