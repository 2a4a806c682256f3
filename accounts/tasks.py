"""Thin tasks: load by id, call the service."""

from celery import shared_task

from accounts import bulk


@shared_task(
    name="accounts.check_bulk_import",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def check_bulk_import(import_id: int) -> None:
    bulk.check_in_worker(import_id)


@shared_task(name="accounts.resume_stalled_bulk_checks", ignore_result=True)
def resume_stalled_bulk_checks() -> None:
    bulk.resume_stalled_checks()
