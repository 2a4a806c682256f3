"""Which audit records a report covers: its dates, people and filters."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.audit.models import AuditRecord, Outcome
from portal.audit.rollup import day_start
from portal.models import Profile

# "The carrier answered": a lookup that found nothing is a success too.
SUCCESS = (Outcome.OK, Outcome.NOT_FOUND)
APIS = ("accounts", "search", "bulk", "orders")
API_LABELS = {
    "accounts": "Customer accounts",
    "search": "Customer search",
    "bulk": "Bulk customers",
    "orders": "Care orders",
}
MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Scope:
    """Which audit records a report covers: dates (inclusive, local time), people, filters."""

    since: date
    until: date
    # Whose calls count: None for everyone (ops); a team's members, as ids, for a manager.
    # A list of ids rather than a join lets the planner see how many rows it will get.
    actor_ids: tuple[int, ...] | None = None
    rep_id: int | None = None
    action: str = ""
    api: str = ""
    outcome: str = ""

    @property
    def start(self) -> datetime:
        return day_start(self.since)

    @property
    def end(self) -> datetime:
        return day_start(self.until + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]


def default_dates(today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def team_member_ids(team_id: int) -> tuple[int, ...]:
    return tuple(
        Profile.objects.filter(team_id=team_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def people_records(scope: Scope) -> QuerySet[AuditRecord]:
    """The records of the scope's dates, team and rep: what the funnel counts."""
    records = AuditRecord.objects.order_by().filter(
        created_at__gte=scope.start, created_at__lt=scope.end
    )
    if scope.actor_ids is not None:
        records = records.filter(actor_id__in=scope.actor_ids)
    if scope.rep_id is not None:
        records = records.filter(actor_id=scope.rep_id)
    return records


def filtered_records(scope: Scope) -> QuerySet[AuditRecord]:
    """The records every filter selects: what the charts, the tables and the CSV show."""
    records = people_records(scope)
    if scope.action:
        records = records.filter(action=scope.action)
    if scope.api:
        records = records.filter(api=scope.api)
    if scope.outcome:
        records = records.filter(outcome=scope.outcome)
    return records


def action_api_outcome_filter(scope: Scope) -> Q | None:
    """The filters beyond dates and people, as a condition on a record or a rollup row."""
    fields = {"action": scope.action, "api": scope.api, "outcome": scope.outcome}
    condition = Q(**{name: value for name, value in fields.items() if value})
    return condition or None
