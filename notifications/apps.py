from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications import receivers
        from orders.signals import order_outcome

        order_outcome.connect(receivers.order_reached_outcome, dispatch_uid="notify_the_rep")
