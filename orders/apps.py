from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Care orders"

    def ready(self) -> None:
        from orders import submissions  # noqa: F401 - registers the care_order handler
