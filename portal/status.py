"""The ops system status page: the queue, the worker, the broker and each carrier API.

The carrier is shown twice: its last hour of real calls, and what /health/ finds now.
"""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Avg, Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from directory import walk as directory_walk
from portal.audit import rollup, seal
from portal.audit.models import AuditRecord, Outcome
from portal.health import check_broker, check_carrier, check_worker
from portal.submissions.models import CLAIMABLE, WAITING, Status, Submission

CARRIER_FAILURES = [Outcome.TRANSIENT, Outcome.TIMEOUT, Outcome.UNREACHABLE, Outcome.MALFORMED]


def queue_summary(now) -> dict:
    counts = dict(Submission.objects.values_list("status").annotate(n=Count("id")).order_by())
    waiting = Submission.objects.filter(status__in=CLAIMABLE)
    stuck = Submission.objects.filter(
        Q(status=Status.IN_FLIGHT, lease_expires_at__lt=now)
        | Q(status__in=CLAIMABLE, next_attempt_at__lt=now - timedelta(minutes=5))
    )
    backlog = Submission.objects.filter(status__in=WAITING)
    return {
        "counts": [(label, counts.get(value, 0), value) for value, label in Status.choices],
        "oldest_waiting": waiting.aggregate(oldest=Min("created_at"))["oldest"],
        # The writes waiting on the carrier, and the one that has waited longest.
        "backlog": backlog.count(),
        "oldest_write": backlog.order_by("created_at").first(),
        "stuck": stuck.select_related("created_by").order_by("created_at")[:20],
        "stuck_count": stuck.count(),
    }


def upstream_last_hour(now) -> list[dict]:
    """Per carrier API: calls, error rate and latency over the last hour (in the database)."""
    rows = (
        AuditRecord.objects.filter(created_at__gte=now - timedelta(hours=1))
        .values("api")
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=Q(outcome__in=CARRIER_FAILURES)),
            avg_ms=Avg("duration_ms"),
        )
        .order_by("api")
    )
    return [
        {**row, "error_rate": (row["errors"] / row["calls"]) if row["calls"] else 0.0}
        for row in rows
    ]


@staff_member_required
@require_GET
def system_status(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context = {
        **admin.site.each_context(request),
        "title": "System status",
        "queue": queue_summary(now),
        "worker": check_worker(),
        "broker": check_broker(),
        "upstreams": upstream_last_hour(now),
        "carrier": check_carrier(now),
        "rollup_backlog": rollup.backlog(),
        "unsealed": seal.unsealed(),
        "last_seal": seal.last_seal(),
        "directory": directory_walk.freshness(),
        "now": now,
    }
    return render(request, "admin/system_status.html", context)
