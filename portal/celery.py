import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# filesystem:// with messages written atomically (see portal/broker.py).
TRANSPORT_ALIASES["filesystem"] = "portal.broker:Transport"

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        settings.WORKER_HEARTBEAT_SECONDS,
        sender.signature("portal.tasks.record_worker_heartbeat"),
        name="worker heartbeat",
    )
    sender.add_periodic_task(
        settings.SUBMISSION_SWEEP_SECONDS,
        sender.signature("portal.submissions.sweep"),
        name="submission sweeper",
    )
    sender.add_periodic_task(
        60.0,
        sender.signature("accounts.resume_stalled_bulk_checks"),
        name="stalled bulk check sweep",
    )
    sender.add_periodic_task(
        settings.AUDIT_ROLLUP_SECONDS,
        sender.signature("portal.audit.roll_up"),
        name="audit daily rollup",
    )
    sender.add_periodic_task(
        settings.ORDER_POLL_EVERY_SECONDS,
        sender.signature("orders.poll_silent_orders"),
        name="care order status poll",
    )
