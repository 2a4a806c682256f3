"""The manager's week put together: its numbers, funnel, charts and what needs action now.

One object for the page, its CSV tables and the weekly digest, so all three say the same.
"""

from datetime import date
from functools import cached_property

from django.contrib.auth.models import User
from django.utils import timezone

from portal import roles
from portal.models import Profile, Team
from reports.charts import Chart, PairRow, comparison_chart, funnel_chart
from reports.funnel import FunnelStep, order_funnel
from reports.needs_action import ActionList, needs_action
from reports.scope import team_member_ids
from reports.week import METRICS, Week, WeekNumbers, WeekScope, week_numbers


class WeekPage:
    """Each part is worked out when it is first read: the page reads them all, a CSV table
    only its own (the funnel's CSV runs no needs-action query, and so on)."""

    def __init__(self, scope: WeekScope):
        self.scope = scope

    @cached_property
    def numbers(self) -> WeekNumbers:
        return week_numbers(self.scope)

    @cached_property
    def funnel(self) -> list[FunnelStep]:
        return order_funnel(self.scope)

    @cached_property
    def actions(self) -> list[ActionList]:
        return needs_action(self.scope.actor_ids)

    @cached_property
    def comparison_chart(self) -> Chart:
        summary = self.numbers.summary()
        return comparison_chart([PairRow(label, t.this, t.last) for _, label, t in summary])

    @cached_property
    def funnel_chart(self) -> Chart:
        return funnel_chart(self.funnel)

    @property
    def week(self) -> Week:
        return self.scope.week

    @property
    def metrics(self) -> tuple[tuple[str, str], ...]:
        return METRICS

    @property
    def needing_action(self) -> int:
        """Everything that needs action now, for the summary line."""
        return sum(action.total for action in self.actions)

    @property
    def is_current(self) -> bool:
        """This week, still going on: its numbers are so far."""
        return self.week == this_week()

    @property
    def time_zone(self) -> str:
        return timezone.get_default_timezone_name()


def build_week_page(scope: WeekScope) -> WeekPage:
    return WeekPage(scope)


def own_team(user: User) -> Team | None:
    profile = Profile.objects.select_related("team").filter(user=user).first()
    return profile.team if profile else None


def week_scope(user: User, week: Week, chosen_team: Team | None = None) -> WeekScope:
    """Whose week `user` may read: ops any team (None: all); anyone else only their own team."""
    if roles.is_ops(user):
        team = chosen_team
        actor_ids = team_member_ids(team.pk) if team else None
    else:
        team = own_team(user)
        actor_ids = team_member_ids(team.pk) if team else ()  # no team: nobody's numbers
    return WeekScope(week=week, team=team, actor_ids=actor_ids)


def this_week(today: date | None = None) -> Week:
    return Week.containing(today or timezone.localdate())
