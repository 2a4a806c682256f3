"""The series each process counts: request latency and carrier calls.

prometheus-client's multiprocess mode: every process (each gunicorn worker, each Celery pool
child) writes its counts to its own file in PROMETHEUS_MULTIPROC_DIR (set by settings before
this module is imported), and /metrics sums the files. Counting never fails the work counted.
"""

import logging

from prometheus_client import Counter, Histogram

logger = logging.getLogger(__name__)

# The carrier's read timeout is 10 s and a write may take 3 s to connect on top.
CARRIER_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by view (its URL name), method and status class.",
    ["view", "method", "status"],
)
CARRIER_CALLS = Counter(
    "portal_carrier_calls",
    "Calls to the carrier, by API, action and outcome (each attempt counts).",
    ["api", "action", "outcome"],
)
CARRIER_CALL_SECONDS = Histogram(
    "portal_carrier_call_duration_seconds",
    "Time a carrier call took, by API and outcome.",
    ["api", "outcome"],
    buckets=CARRIER_BUCKETS,
)


def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    # Labels from closed sets only: a raw path or method would grow a series per value.
    method = method if method in METHODS else "other"
    try:
        REQUEST_SECONDS.labels(view, method, f"{status // 100}xx").observe(seconds)
    except Exception:  # a full disk or a removed directory must not fail the page
        logger.warning("could not count a request in %s", view, exc_info=True)


def observe_carrier_call(api: str, action: str, outcome: str, seconds: float) -> None:
    try:
        CARRIER_CALLS.labels(api, action, outcome).inc()
        CARRIER_CALL_SECONDS.labels(api, outcome).observe(seconds)
    except Exception:  # the call happened and is audited: only its count is lost
        logger.warning("could not count a %s call", api, exc_info=True)


def count_lost_attempt(api: str, action: str) -> None:
    """An attempt whose outcome nobody saw (its worker died): counted, with no duration."""
    try:
        CARRIER_CALLS.labels(api, action, "lost").inc()
    except Exception:  # the attempt is audited: only its count is lost
        logger.warning("could not count a lost %s attempt", api, exc_info=True)
