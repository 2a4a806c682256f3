"""The report's filters: dates, team, rep, action, API and outcome, checked and scoped."""

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from portal import roles
from portal.audit.models import Action, Outcome
from portal.models import Profile, Team
from reports.scope import API_LABELS, MAX_DAYS, Scope, default_dates, team_member_ids

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
    show_team = False

    def label_from_instance(self, user: User) -> str:
        name = user.get_full_name() or user.username
        team = getattr(getattr(user, "profile", None), "team", None)
        return f"{name} ({team})" if self.show_team and team else name


class ReportFilterForm(forms.Form):
    """The report's filters. Ops choose any team; a manager's team is fixed to their own."""

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

    def __init__(self, data, *, user: User):
        # Always bound: an empty date means the default period, shown filled in.
        data = data.copy()
        since, until = default_dates()
        data["since"] = data.get("since") or since.isoformat()
        data["until"] = data.get("until") or until.isoformat()
        super().__init__(data)
        self.sees_all_teams = roles.is_ops(user)
        reps = User.objects.filter(profile__team__isnull=False)
        if self.sees_all_teams:
            self.own_team = None
        else:
            del self.fields["team"]
            profile = Profile.objects.select_related("team").filter(user=user).first()
            self.own_team = profile.team if profile else None
            reps = reps.filter(profile__team=self.own_team) if self.own_team else reps.none()
        rep = self.fields["rep"]
        rep.queryset = reps.select_related("profile__team").order_by(
            "first_name", "last_name", "username"
        )
        rep.show_team = self.sees_all_teams

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
        return self.cleaned_data.get("team") if self.sees_all_teams else self.own_team

    def scope(self) -> Scope:
        data = self.cleaned_data
        team = self.report_team
        if team is not None:
            actor_ids = team_member_ids(team.pk)
        else:
            actor_ids = None if self.sees_all_teams else ()  # a manager without a team
        return Scope(
            since=data["since"],
            until=data["until"],
            actor_ids=actor_ids,
            rep_id=data["rep"].pk if data.get("rep") else None,
            action=data["action"],
            api=data["api"],
            outcome=data["outcome"],
        )

    def query_string(self) -> str:
        """The filters as URL parameters, empty ones left out: for the CSV link."""
        return urlencode({name: self.data[name] for name in self.fields if self.data.get(name)})
