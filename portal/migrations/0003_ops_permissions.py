"""Ops see every portal object in the admin, and can unlock a locked-out login."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPS_VIEW = [
    ("accounts", "customer"),
    ("accounts", "bulkimport"),
    ("accounts", "bulkbatch"),
    ("orders", "careorder"),
    ("orders", "orderevent"),
    ("orders", "carriernotification"),
    ("axes", "accessattempt"),
    ("axes", "accesslog"),
    ("axes", "accessfailurelog"),
]
# Deleting a login's failed attempts is how ops unlock it.
OPS_DELETE = [("axes", "accessattempt")]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ops, _ = Group.objects.get_or_create(name="ops")
    wanted = [("view", *pair) for pair in OPS_VIEW] + [("delete", *pair) for pair in OPS_DELETE]
    for verb, app_label, model in wanted:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=f"{verb}_{model}"
        ).first()
        if permission is not None:
            ops.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_roles_and_teams"),
        ("accounts", "0002_bulk_import"),
        ("orders", "0001_initial"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
