"""Thin tasks: load by id, call the service. Retries live in the row, not in Celery."""

from celery import shared_task

from portal.submissions import services


@shared_task(
    name="portal.submissions.process",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def process_submission(submission_id: int) -> None:
    services.make_attempt(submission_id)


@shared_task(name="portal.submissions.sweep", ignore_result=True)
def sweep_submissions() -> None:
    services.sweep()
