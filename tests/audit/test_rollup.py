"""The daily rollup the reports sum: it never changes a number, only how fast it comes."""

import io
from datetime import datetime, timedelta

from django.core.management import call_command
from django.utils import timezone

from portal.audit import rollup
from portal.audit.chain import export_and_remove, verify_chain
from portal.audit.models import Action, AuditDay, AuditRollupMark, Outcome
from portal.models import Team
from reports.report import build_report
from reports.scope import Scope, default_dates, team_member_ids
from tests.reports.test_reports import record


def numbers(scope: Scope) -> dict:
    """Everything the report page shows that counts records."""
    report = build_report(scope)
    return {
        "calls": report.calls,
        "successes": report.successes,
        "days": [(day.day, day.counts) for day in report.days],
        "retries": report.retries,
        "once_each": [(item.label, item.count) for item in report.once_each],
        "reps": [
            (rep.name, rep.calls, rep.successes, rep.created, rep.ordered, rep.last_activity)
            for rep in report.reps
        ],
        "latency": [(api.api, api.calls, api.p50, api.p95) for api in report.latency],
    }


def scopes(alice) -> list[Scope]:
    since, until = default_dates()
    central = team_member_ids(Team.objects.get(name="Central").pk)
    return [
        Scope(since, until),
        Scope(since, until, central),
        Scope(since, until, central, rep_id=alice.pk, action=Action.LOOKUP),
        Scope(since, until, outcome=Outcome.TIMEOUT),
        Scope(since - timedelta(days=60), until, api="orders"),
    ]


def a_varied_trail(alice, bob):
    yesterday = timezone.localdate() - timedelta(days=1)
    late = timezone.make_aware(datetime.combine(yesterday, datetime.min.time())) + timedelta(
        hours=23, minutes=30
    )  # 23:30 local: already tomorrow in UTC
    record(alice, Action.LOOKUP, created_at=late, duration_ms=120)
    record(alice, Action.LOOKUP, Outcome.TIMEOUT, attempt=2, duration_ms=8000)
    record(alice, Action.ACCOUNT_CREATE, idempotency_key="k1", duration_ms=300)
    record(alice, Action.ACCOUNT_CREATE, idempotency_key="k1", attempt=2, duration_ms=310)
    record(alice, Action.CARE_ORDER, Outcome.TRANSIENT, idempotency_key="m1", duration_ms=50)
    record(bob, Action.CARE_ORDER, idempotency_key="b1", duration_ms=400)
    record(bob, Action.SEARCH, created_at=timezone.now() - timedelta(days=50))
    record(None, Action.CARE_ORDER_STATUS, duration_ms=90)


def test_rolling_up_changes_no_number_of_the_report(alice, bob):
    a_varied_trail(alice, bob)
    before = [numbers(scope) for scope in scopes(alice)]

    counted = rollup.roll_up()

    assert counted == 8
    assert AuditDay.objects.exists()
    assert AuditRollupMark.objects.get().last_record_id > 0
    assert [numbers(scope) for scope in scopes(alice)] == before
    assert before[0]["once_each"] == [
        ("Lookups made", 1),
        ("Accounts created", 1),
        ("Care orders accepted", 1),
    ]


def test_records_after_the_rollup_are_counted_once(alice, bob):
    a_varied_trail(alice, bob)
    rollup.roll_up()
    record(alice, Action.LOOKUP)
    record(alice, Action.ACCOUNT_CREATE, idempotency_key="k1", attempt=3)  # a replay: not new
    record(alice, Action.ACCOUNT_CREATE, idempotency_key="k2")
    since, until = default_dates()
    scope = Scope(since, until)

    tail = numbers(scope)
    assert rollup.roll_up() == 3
    rolled = numbers(scope)
    assert rollup.roll_up() == 0  # nothing new: nothing counted again

    assert tail == rolled == numbers(scope)
    assert rolled["calls"] == 10
    assert dict(rolled["once_each"])["Accounts created"] == 2


def test_the_command_rolls_up_what_is_new(alice):
    record(alice)
    out = io.StringIO()

    call_command("roll_up_audit", stdout=out)
    call_command("roll_up_audit", stdout=out)

    assert out.getvalue().splitlines() == [
        "Rolled up 1 audit records.",
        "Rolled up 0 audit records.",
    ]
    assert AuditDay.objects.get().calls == 1


def test_retention_recounts_the_days_it_emptied(alice, bob, tmp_path):
    old = timezone.now() - timedelta(days=45)
    for hours in (0, 1, 2):
        record(alice, Action.LOOKUP, created_at=old + timedelta(hours=hours))
    a_varied_trail(alice, bob)
    rollup.roll_up()
    since = timezone.localdate() - timedelta(days=90)
    scope = Scope(since, timezone.localdate())
    assert numbers(scope)["calls"] == 11

    export_and_remove(old + timedelta(minutes=90), tmp_path)

    kept = numbers(scope)
    assert kept["calls"] == 9  # two of the old lookups went; the rollup forgot them too
    assert sum(AuditDay.objects.values_list("calls", flat=True)) == 9
    assert verify_chain().ok


def test_ops_see_what_the_rollup_has_yet_to_count(client, alice, olivia):
    record(alice)
    record(alice)
    client.force_login(olivia)

    assert rollup.backlog() == 2
    waiting = client.get("/admin/status/").content.decode()
    rollup.roll_up()
    counted = client.get("/admin/status/").content.decode()

    label = "Audit records waiting for the reports rollup</th>"
    assert f'{label}<td class="health-ok">2</td>' in waiting
    assert f'{label}<td class="health-ok">0</td>' in counted
