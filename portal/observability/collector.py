"""The series read from the database at scrape time, in a fixed handful of cheap queries."""

import logging
import math
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from portal.audit.rollup import backlog
from portal.models import WorkerHeartbeat
from portal.submissions.models import WAITING, Status, Submission

logger = logging.getLogger(__name__)
# The writes waiting on the carrier: queued, waiting to retry, or being sent.


class PortalStateCollector:
    """Submissions by state, the oldest waiting write, the worker's heartbeat, the audit backlog."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("portal_database_up", "1 if the database answered this scrape.")
        try:
            families = [
                submissions_by_state(),
                oldest_waiting_write(),
                heartbeat_age(),
                audit_backlog(),
            ]
        except DatabaseError:
            logger.warning("/metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def submissions_by_state() -> GaugeMetricFamily:
    counts = dict(Submission.objects.values_list("status").annotate(n=Count("id")).order_by())
    family = GaugeMetricFamily(
        "portal_submissions", "Upstream writes (submissions) by state.", labels=["state"]
    )
    for state in Status.values:
        family.add_metric([state], counts.get(state, 0))
    return family


def oldest_waiting_write() -> GaugeMetricFamily:
    oldest = Submission.objects.filter(status__in=WAITING).aggregate(at=Min("created_at"))["at"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return GaugeMetricFamily(
        "portal_oldest_waiting_write_age_seconds",
        "Age of the oldest write still waiting on the carrier (0 when none waits).",
        value=max(0.0, age),
    )


def heartbeat_age() -> GaugeMetricFamily:
    seen = WorkerHeartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
    # Never seen reads as infinitely old, so one "older than" alert covers both.
    age = (timezone.now() - seen).total_seconds() if seen else math.inf
    return GaugeMetricFamily(
        "portal_worker_heartbeat_age_seconds",
        "Seconds since a worker last ran the beat's heartbeat task (+Inf: never).",
        value=max(0.0, age),
    )


def audit_backlog() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "portal_audit_backlog_records",
        "Audit records not yet counted into the daily rollup the reports read.",
        value=backlog(),
    )
