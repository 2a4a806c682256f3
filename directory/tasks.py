"""Thin tasks: the walk's beat run."""

from celery import shared_task

from directory.walk import walk_directory


@shared_task(name="directory.walk", ignore_result=True)
def walk_customer_directory() -> None:
    walk_directory()
