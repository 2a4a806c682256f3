"""Demo users for each role, for `make run` on a developer's machine."""

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError

from portal.models import Profile, Team

DEMO_USERS = [
    # username, full name, role, team, attuid
    ("alice", "Alice Rep", "sales_rep", "Central", "ar1234"),
    ("bob", "Bob Rep", "sales_rep", "East", "br5678"),
    ("carol", "Carol Manager", "manager", "Central", "cm9012"),
    ("olivia", "Olivia Ops", "ops", None, ""),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo users for each role and print their credentials."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-pass-2026")

    def handle(self, *args, password: str, **options):
        # bin/run (make run, on this machine's loopback) asks for them with DEBUG off too.
        if not settings.DEBUG and not settings.DEMO_USERS:
            raise CommandError("Demo users are for this machine's portal only: PORTAL_DEMO_USERS.")
        rows = []
        for username, full_name, role, team_name, attuid in DEMO_USERS:
            first, last = full_name.split(" ", 1)
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = f"{username}@example.com"
            user.is_staff = role == "ops"
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            team = Team.objects.get(name=team_name) if team_name else None
            Profile.objects.update_or_create(user=user, defaults={"team": team, "attuid": attuid})
            rows.append((username, password, role, team_name or "-"))
        self.stdout.write("Demo users (username / password / role / team):")
        for row in rows:
            self.stdout.write("  {:<8} {:<16} {:<10} {}".format(*row))
