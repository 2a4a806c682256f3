from celery import shared_task

from orders import services


@shared_task(name="orders.poll_silent_orders", ignore_result=True)
def poll_silent_orders() -> None:
    services.poll_silent_orders()


@shared_task(name="orders.remove_old_drafts", ignore_result=True)
def remove_old_drafts() -> None:
    services.remove_old_drafts()
