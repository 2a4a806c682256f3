"""N realistic audit records, sealed, for benchmarks and report demos."""

import random
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal.audit import seal
from portal.audit.models import AuditRecord, Outcome
from portal.models import Profile, Team

CHUNK = 5_000
# action, api, method, path, share of traffic, median ms
ACTIONS = [
    ("lookup", "accounts", "POST", "/api/v1/customerAccountLookup", 0.45, 180),
    ("search", "search", "POST", "/omni-svcs/v1/customers/search", 0.2, 250),
    ("account_create", "accounts", "POST", "/api/v1/customerAccount", 0.1, 400),
    ("care_order", "orders", "POST", "/api/orderingMobility/v1/careOrder", 0.15, 350),
    ("care_order_status", "orders", "GET", "/api/orderingMobility/v1/careOrder/ORD-1", 0.05, 120),
    ("bulk_create", "bulk", "POST", "/v2/data/customers", 0.05, 900),
]
OUTCOMES = [
    (Outcome.OK, 200, 0.86, ""),
    (Outcome.NOT_FOUND, 404, 0.05, ""),
    (Outcome.REJECTED, 400, 0.03, "postCode is not a ZIP"),
    (Outcome.REJECTED, 422, 0.01, "Account name is on the carrier's deny list"),
    (Outcome.TRANSIENT, 503, 0.03, "HTTP 503: Service Unavailable"),
    (Outcome.TIMEOUT, None, 0.015, "no answer within 10 s"),
    (Outcome.MALFORMED, 200, 0.005, "body is not JSON"),
]


class Command(BaseCommand):
    help = "Append N realistic audit records (spread over --days days), then seal them."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, count: int, days: int, seed: int, **options):
        rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
        actors = _bench_users()
        actions = list(ACTIONS)
        action_weights = [a[4] for a in ACTIONS]
        outcome_weights = [o[2] for o in OUTCOMES]
        now = timezone.now()
        made = 0
        while made < count:
            size = min(CHUNK, count - made)
            with transaction.atomic():
                records = []
                for _ in range(size):
                    action, api, method, path, _share, median = rng.choices(
                        actions, action_weights
                    )[0]
                    outcome, status, _w, error = rng.choices(OUTCOMES, outcome_weights)[0]
                    if outcome == Outcome.NOT_FOUND and action != "lookup":
                        outcome, status, error = Outcome.OK, 200, ""
                    record = AuditRecord(
                        created_at=now - timedelta(seconds=rng.uniform(0, days * 86400)),
                        actor=rng.choice(actors),
                        action=action,
                        api=api,
                        method=method,
                        url=f"http://carrier.example{path}",
                        request_headers={"x-trace-id": "bench"},
                        request_body={"bench": True},
                        response_status=status,
                        response_body="{}" if status else "",
                        duration_ms=int(rng.lognormvariate(0, 0.5) * median),
                        attempt=1 if rng.random() < 0.95 else 2,
                        outcome=outcome,
                        error=error,
                        trace_id=f"bench-{made}",
                    )
                    records.append(record)
                    made += 1
                AuditRecord.objects.bulk_create(records)
            self.stdout.write(f"{made}/{count}", ending="\r")
        sealed = seal.seal_pending(settle_seconds=0)
        self.stdout.write(f"Generated {count} audit records ({sealed} sealed).")


def _bench_users() -> list[User]:
    """Reps and managers on two teams to spread records over (made if missing)."""
    users = list(User.objects.filter(groups__name__in=["sales_rep", "manager"]).distinct())
    if len(users) >= 4:
        return users
    rep = Group.objects.get_or_create(name="sales_rep")[0]
    for team_name in ("Central", "East"):
        team = Team.objects.get_or_create(name=team_name)[0]
        for n in range(5):
            user, created = User.objects.get_or_create(username=f"bench-{team_name.lower()}-{n}")
            if created:
                user.set_unusable_password()
                user.save()
                user.groups.add(rep)
                Profile.objects.create(user=user, team=team, attuid=f"bn{n:04d}")
            users.append(user)
    return users
