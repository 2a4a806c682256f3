"""Every time the portal shows by default says its time zone (the admin's lists included)."""

from datetime import UTC, datetime

from django.template import Context, Template
from django.utils import timezone


def test_a_datetime_shown_by_default_carries_its_zone(settings):
    settings.TIME_ZONE = "America/Chicago"
    moment = datetime(2026, 12, 1, 13, 17, tzinfo=UTC)

    with timezone.override("America/Chicago"):
        shown = Template("{{ moment }}").render(Context({"moment": moment}))

    assert shown == "Dec. 1, 2026, 7:17 a.m. CST"


def test_the_admins_lists_show_times_with_their_zone(client, olivia, alice):
    client.force_login(olivia)

    html = client.get("/admin/auth/user/").content.decode()

    assert " CST" in html or " CDT" in html
