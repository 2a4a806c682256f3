"""Ops see the directory in the admin, and load the solution provider's lines and price book."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPS_PERMISSIONS = [
    "view_directoryentry",
    "view_subscriberline",
    "delete_subscriberline",
    "import_subscriberline",
    "view_productsku",
    "add_productsku",
    "change_productsku",
    "delete_productsku",
    "import_productsku",
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("directory")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ops, _ = Group.objects.get_or_create(name="ops")
    wanted = Permission.objects.filter(
        content_type__app_label="directory", codename__in=OPS_PERMISSIONS
    )
    ops.permissions.add(*wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0006_partner_records"),
        ("portal", "0003_ops_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
