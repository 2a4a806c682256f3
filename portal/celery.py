import os

from celery import Celery
from celery.signals import beat_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Celery's Django fixup runs Django's system checks as a worker or beat starts; on SQLite the
# JSONField check opens an IMMEDIATE transaction, so a start waited on any write in progress.
# `manage.py migrate` has run the checks before bin/run starts either.
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")
# filesystem:// with messages written atomically (see portal/broker.py).
TRANSPORT_ALIASES["filesystem"] = "portal.broker:Transport"

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    every = [
        (
            settings.WORKER_HEARTBEAT_SECONDS,
            "portal.tasks.record_worker_heartbeat",
            "worker heartbeat",
        ),
        (settings.SUBMISSION_SWEEP_SECONDS, "portal.submissions.sweep", "submission sweeper"),
        (60.0, "accounts.resume_stalled_bulk_checks", "stalled bulk check sweep"),
        (settings.AUDIT_SEAL_SECONDS, "portal.audit.seal", "audit sealer"),
        (settings.AUDIT_ROLLUP_SECONDS, "portal.audit.roll_up", "audit daily rollup"),
        (settings.ORDER_POLL_EVERY_SECONDS, "orders.poll_silent_orders", "care order status poll"),
        (3600.0, "orders.remove_old_drafts", "old care order drafts removal"),
        (settings.DIRECTORY_WALK_EVERY_SECONDS, "directory.walk", "customer directory walk"),
    ]
    for seconds, task, name in every:
        sender.add_periodic_task(seconds, sender.signature(task), name=name)


@beat_init.connect
def walk_the_book_at_start(sender, **kwargs) -> None:
    # Beat's first interval would leave a fresh portal's directory without the carrier's
    # book for minutes; the walk's lease keeps an early run from doubling a scheduled one.
    app.send_task("directory.walk")
