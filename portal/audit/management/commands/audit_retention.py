from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.audit.chain import export_and_remove


class Command(BaseCommand):
    help = "Export audit records older than the retention age to gzip JSON Lines, then remove them."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.AUDIT_RETENTION_DAYS)
        parser.add_argument("--out", default=str(settings.AUDIT_EXPORT_DIR))

    def handle(self, *args, days: int, out: str, **options):
        checkpoint = export_and_remove(timezone.now() - timedelta(days=days), Path(out))
        if checkpoint is None:
            self.stdout.write(f"No audit records older than {days} days.")
            return
        self.stdout.write(
            f"Exported {checkpoint.exported_count} records to {checkpoint.export_file} "
            f"and removed them; the chain continues from #{checkpoint.last_id}."
        )
