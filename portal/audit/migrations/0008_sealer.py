"""Appends become plain inserts; a sealer chains them (portal.audit.seal).

Records chained before keep their hashes and get their place (`seq`) in id order; the
append-only triggers, on SQLite too now, allow only a seal and retention's delete.
A later migration that rebuilds this table on SQLite must install the triggers again.
"""

from django.db import migrations, models

from portal.audit import guard

NUMBER_CHAINED = """
UPDATE audit_auditrecord SET seq = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM audit_auditrecord
      WHERE hash <> '') AS numbered
WHERE audit_auditrecord.id = numbered.id
"""


def drop_old_trigger(apps, schema_editor):
    guard.uninstall(schema_editor)


def number_chained_records(apps, schema_editor):
    schema_editor.execute(NUMBER_CHAINED, params=None)
    record = apps.get_model("audit", "AuditRecord")
    last = record.objects.filter(seq__isnull=False).order_by("-seq").first()
    if last is not None:
        apps.get_model("audit", "AuditSealMark").objects.create(
            pk=1, seq=last.seq, last_id=last.id, head_hash=last.hash, sealed_at=last.created_at
        )


def install_triggers(apps, schema_editor):
    guard.install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_auditrecord_response_headers")]

    operations = [
        migrations.RunPython(drop_old_trigger, install_triggers),
        migrations.CreateModel(
            name="AuditSealMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.BigIntegerField(default=0)),
                ("last_id", models.BigIntegerField(default=0)),
                ("head_hash", models.CharField(default="0" * 64, max_length=64)),
                ("sealed_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.AddField(
            model_name="auditrecord",
            name="seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditrecord",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(number_chained_records, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, drop_old_trigger),
    ]
