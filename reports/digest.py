"""The weekly digest's content: a manager's week as an email's subject, text and HTML.

The digest covers the last full week before `today` (sent on a Monday, the week that just
ended), with what needs action at the moment it is written. It carries what the page shows
and nothing more: names, counts and order numbers; no phone number, IMEI, ICCID or PIN.
Links are the portal's paths, after the `SITE_URL` setting when there is one.
"""

from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from reports.week import Week
from reports.week_page import build_week_page, week_scope


def digest_week(today: date | None = None) -> Week:
    """The week a digest written on `today` is about: the last one that has ended."""
    return Week.containing(today or timezone.localdate()).previous


def render_digest(user, *, today: date | None = None) -> tuple[str, str, str]:
    """(subject, plain-text body, HTML body) of `user`'s team's last full week."""
    week = digest_week(today)
    page = build_week_page(week_scope(user, week))
    site = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    team = page.scope.team
    context = {
        "page": page,
        "user": user,
        "team": team,
        "site": site,
        "week_url": f"{site}{reverse('audit:report')}?{urlencode({'week': week.monday})}",
    }
    subject = f"{f'Team {team}' if team else 'Your team'}: the week of {week.label}"
    return (
        " ".join(subject.split()),  # one line whatever a team is called
        render_to_string("reports/digest.txt", context),
        render_to_string("reports/digest.html", context),
    )
