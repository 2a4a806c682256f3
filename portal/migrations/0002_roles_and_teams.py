"""The three roles as groups, their permissions, and the first teams."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TEAMS = ["Central", "East"]
# Ops work in the admin: they see everything and manage people and teams.
OPS_PERMISSIONS = [
    ("auth", "user", ["view", "add", "change"]),
    ("auth", "group", ["view"]),
    ("portal", "team", ["view", "add", "change"]),
    ("portal", "profile", ["view", "add", "change"]),
    ("portal", "workerheartbeat", ["view"]),
    ("audit", "auditrecord", ["view"]),
    ("submissions", "submission", ["view", "change"]),
]
MANAGER_PERMISSIONS = [("audit", "auditrecord", ["view"])]


def _grant(apps, group, grants):
    Permission = apps.get_model("auth", "Permission")
    for app_label, model, verbs in grants:
        for verb in verbs:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=f"{verb}_{model}"
                )
            )


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrations; roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Team = apps.get_model("portal", "Team")
    Group.objects.get_or_create(name="sales_rep")
    ops, _ = Group.objects.get_or_create(name="ops")
    manager, _ = Group.objects.get_or_create(name="manager")
    _grant(apps, ops, OPS_PERMISSIONS)
    _grant(apps, manager, MANAGER_PERMISSIONS)
    for name in TEAMS:
        Team.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("audit", "0001_initial"),
        ("submissions", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
