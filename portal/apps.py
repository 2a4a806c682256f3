from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: people and system"

    def ready(self) -> None:
        from portal import cache  # noqa: F401  (its receivers drop a changed user's entry)
