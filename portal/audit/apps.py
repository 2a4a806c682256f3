from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "portal.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from portal.audit.guard import register_sqlite_permit

        connection_created.connect(register_sqlite_permit, dispatch_uid="audit_sqlite_permit")
