from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "portal.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        # Connects the Celery signals that carry a request's id into the tasks it enqueues.
        from portal.observability import task_ids  # noqa: F401
