from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = "Customer directory"

    def ready(self) -> None:
        from directory import receivers  # noqa: F401 - listens to accounts' customers_seen
