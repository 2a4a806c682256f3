from celery import shared_task

from portal.audit import rollup, seal


@shared_task(name="portal.audit.seal", ignore_result=True)
def seal_audit() -> None:
    seal.seal_pending()


@shared_task(name="portal.audit.roll_up", ignore_result=True)
def roll_up_audit() -> None:
    rollup.roll_up()
