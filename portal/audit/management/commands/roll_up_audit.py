"""Count new audit records into the daily rollup now (beat does it every AUDIT_ROLLUP_SECONDS)."""

from django.core.management.base import BaseCommand

from portal.audit import rollup


class Command(BaseCommand):
    help = "Count audit records not yet in the daily rollup the reports read (after a bulk load)."

    def handle(self, *args, **options):
        counted = rollup.roll_up()
        self.stdout.write(f"Rolled up {counted} audit records.")
