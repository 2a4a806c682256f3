"""The reports' filters: the week (and team) of the manager's week; the telemetry's filters."""

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from portal import roles
from portal.audit.models import Action, Outcome
from portal.models import Team
from reports.scope import API_LABELS, MAX_DAYS, Scope, default_dates, team_member_ids
from reports.week import Week, WeekScope
from reports.week_page import week_scope

# No audit record is older than the portal; the date arithmetic past year 9999 would overflow.
EARLIEST_DATE = date(2000, 1, 1)


def latest_date() -> date:
    """The last day a report may cover: the end of next year."""
    return date(timezone.localdate().year + 1, 12, 31)


def in_report_range(day: date) -> date:
    latest = latest_date()
    if not EARLIEST_DATE <= day <= latest:
        raise forms.ValidationError(f"Choose a date from {EARLIEST_DATE} to {latest}.")
    return day


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        name = user.get_full_name() or user.username
        team = getattr(getattr(user, "profile", None), "team", None)
        return f"{name} ({team})" if team else name


class ReportFilterForm(forms.Form):
    """The carrier telemetry's filters (an ops page: any team, any rep)."""

    since = forms.DateField(label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(label="To", widget=forms.DateInput({"type": "date"}))
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="All teams"
    )
    rep = RepChoiceField(queryset=User.objects.none(), required=False, empty_label="All reps")
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    api = forms.ChoiceField(
        label="API", choices=[("", "Any API"), *API_LABELS.items()], required=False
    )
    outcome = forms.ChoiceField(choices=[("", "Any outcome"), *Outcome.choices], required=False)

    def __init__(self, data):
        # Always bound: an empty date means the default period, shown filled in.
        data = data.copy()
        since, until = default_dates()
        data["since"] = data.get("since") or since.isoformat()
        data["until"] = data.get("until") or until.isoformat()
        super().__init__(data)
        self.fields["rep"].queryset = (
            User.objects.filter(profile__team__isnull=False)
            .select_related("profile__team")
            .order_by("first_name", "last_name", "username")
        )

    def clean_since(self) -> date:
        return in_report_range(self.cleaned_data["since"])

    def clean_until(self) -> date:
        return in_report_range(self.cleaned_data["until"])

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                self.add_error("until", "The end is before the start.")
            elif (until - since).days >= MAX_DAYS:
                self.add_error("since", f"Choose at most {MAX_DAYS} days.")
        return data

    @property
    def report_team(self) -> Team | None:
        """The team the report is about; None for all teams."""
        return self.cleaned_data.get("team")

    def scope(self) -> Scope:
        data = self.cleaned_data
        team = self.report_team
        return Scope(
            since=data["since"],
            until=data["until"],
            actor_ids=team_member_ids(team.pk) if team is not None else None,
            rep_id=data["rep"].pk if data.get("rep") else None,
            action=data["action"],
            api=data["api"],
            outcome=data["outcome"],
        )

    def query_string(self) -> str:
        """The filters as URL parameters, empty ones left out: for the CSV link."""
        return urlencode({name: self.data[name] for name in self.fields if self.data.get(name)})


class WeekForm(forms.Form):
    """The manager's week: which week (any day of it), and for ops which team."""

    week = forms.DateField(
        label="Week of",
        widget=forms.DateInput({"type": "date"}),
        help_text="Any day of the week: weeks start on Monday.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="All teams"
    )

    def __init__(self, data, *, user: User):
        # Always bound: no week means this one, shown filled in (as its Monday).
        data = data.copy()
        data["week"] = data.get("week") or Week.containing(timezone.localdate()).monday.isoformat()
        super().__init__(data)
        self.user = user
        self.sees_all_teams = roles.is_ops(user)
        if not self.sees_all_teams:
            del self.fields["team"]  # a manager's team is their own

    def clean_week(self) -> date:
        return Week.containing(in_report_range(self.cleaned_data["week"])).monday

    def scope(self) -> WeekScope:
        data = self.cleaned_data
        return week_scope(self.user, Week(data["week"]), data.get("team"))

    def query_string(self, **changes) -> str:
        """The choices as URL parameters, empty ones left out: for the CSV and week links."""
        values = {name: self.data.get(name) for name in self.fields}
        if self.is_valid():
            values["week"] = self.cleaned_data["week"].isoformat()
        values.update(changes)
        return urlencode({name: value for name, value in values.items() if value})
