"""`make chaos`'s verdict: the figures of a run, each audit record settled against the
carrier's own request log, and whether nothing was lost, doubled or left unrecorded."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from bench import chaos_work

WRITE_ENDPOINTS = ("account_create", "care_order", "bulk_create")


def wire_key(kind: str, headers: dict, body) -> str:
    """What names one write on the wire: its idempotency header, or a bulk batch's own body."""
    if kind == "account_create":
        return headers.get("x-transaction-id", "")
    if kind == "care_order":
        return headers.get("x-att-messageid", "")
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def settle_audit(carrier_log, audit_rows, submissions) -> tuple[int, int, int]:
    """Match audit records to the carrier's request log, key by key.

    For every key, the requests received must lie between the audited outcomes and those plus
    the lost attempts. Returns the lost attempts whose call never reached the carrier, the
    requests with no audit record, and the audited outcomes with no request.
    """
    from portal.audit.models import Outcome

    bulk_keys = {
        submission.idempotency_key: wire_key("bulk_create", {}, submission.payload)
        for submission in submissions.filter(kind="bulk_create").only("idempotency_key", "payload")
    }
    received = Counter(
        (kind, wire_key(kind, entry["headers"], entry["body"]))
        for kind, entries in carrier_log.items()
        for entry in entries
    )
    completed, lost = Counter(), Counter()
    for action, key, outcome in audit_rows.values_list("action", "idempotency_key", "outcome"):
        wire = bulk_keys.get(key, key) if action == "bulk_create" else key
        (lost if outcome == Outcome.LOST else completed)[(action, wire)] += 1
    never_left = unaudited = unreceived = 0
    for key in received.keys() | completed.keys() | lost.keys():
        got, done, unknown = received[key], completed[key], lost[key]
        unaudited += max(0, got - done - unknown)
        unreceived += max(0, done - got)
        never_left += max(0, min(unknown, done + unknown - got))
    return never_left, unaudited, unreceived


def measure(found: dict, stats: dict, carrier_log: dict) -> dict:
    """Every figure of the run, from the portal's database and the carrier's counters."""
    from portal.audit.models import AuditRecord
    from portal.submissions.models import TERMINAL, Status, Submission

    submissions = Submission.objects.all()
    by_kind = {
        kind: {
            "total": submissions.filter(kind=kind).count(),
            "succeeded": submissions.filter(kind=kind, status=Status.SUCCEEDED).count(),
        }
        for kind in WRITE_ENDPOINTS
    }
    audit_rows = AuditRecord.objects.filter(action__in=WRITE_ENDPOINTS)
    never_left, unaudited, unreceived = settle_audit(carrier_log, audit_rows, submissions)
    return {
        "submissions": submissions.count(),
        "terminal": submissions.filter(status__in=TERMINAL).count(),
        "succeeded": sum(kind["succeeded"] for kind in by_kind.values()),
        "failed": submissions.filter(status=Status.FAILED).count(),
        "rejected": submissions.filter(status=Status.REJECTED).count(),
        "side_effects": sum(stats[kind]["side_effects"] for kind in WRITE_ENDPOINTS),
        "missing": sum(
            max(0, by_kind[kind]["succeeded"] - stats[kind]["side_effects"])
            for kind in ("account_create", "care_order")
        ),
        "duplicates": count_duplicates(stats, by_kind),
        "received": sum(stats[kind]["requests"] for kind in WRITE_ENDPOINTS),
        "logged": sum(len(entries) for entries in carrier_log.values()),
        "audited": audit_rows.count(),
        "never_left": never_left,
        "unaudited": unaudited,
        "unreceived": unreceived,
        "pushes": chaos_work.pushes_summary(),
        "short_with_pin": chaos_work.sent_pins(carrier_log, found["short"]),
    }


def figures(m: dict, found: dict, outage_seconds: float) -> list[tuple[str, object]]:
    pushes = m["pushes"]
    return [
        ("submissions", m["submissions"]),
        ("terminal", m["terminal"]),
        ("succeeded", m["succeeded"]),
        ("failed", m["failed"]),
        ("rejected", m["rejected"]),
        ("side effects", m["side_effects"]),
        ("succeeded without a side effect", m["missing"]),
        ("duplicates", m["duplicates"]),
        ("lost", m["submissions"] - m["terminal"]),
        (
            f"forms posted {chaos_work.POSTS_PER_FORM} times at once",
            chaos_work.DOUBLE_SUBMITTED_FORMS,
        ),
        ("  orders they made", found["double_orders"]),
        ("carrier outage, seconds", outage_seconds),
        ("failed orders re-queued by ops", found["requeued"]),
        ("  short-deadline orders sent with their PIN", m["short_with_pin"]),
        ("pushes before the 202 was recorded (held)", pushes["held"]),
        ("  pushes matching no sent order (404)", pushes["unknown"]),
        ("  pushes applied", pushes["applied"]),
        ("  orders completed / accepted", f"{pushes['completed']} / {pushes['accepted']}"),
        ("requests received by the carrier", m["received"]),
        ("audit records", m["audited"]),
        ("  matched to a received request", m["audited"] - m["never_left"] - m["unreceived"]),
        ("  worker died before the call left", m["never_left"]),
        ("  matching no received request", m["unreceived"]),
        ("requests with no audit record", m["unaudited"]),
        ("worker kills", found["kills"]),
        ("broker restarts", found["restarts"][0]),
        ("seconds", round(found["seconds"], 1)),
    ]


def audit_settles(m: dict) -> bool:
    return (
        m["logged"] == m["received"]
        and m["unaudited"] == m["unreceived"] == 0
        and m["received"] == m["audited"] - m["never_left"]
    )


def passed(m: dict, found: dict) -> bool:
    return (
        m["submissions"] == found["total"] == m["terminal"]
        and m["duplicates"] == m["missing"] == 0
        and audit_settles(m)
        and found["kills"] > 0
        and found["double_orders"] == chaos_work.DOUBLE_SUBMITTED_FORMS
        and found["requeued"] > 0
        and m["short_with_pin"] == len(found["short"])
        and m["pushes"]["completed"] == m["pushes"]["accepted"]
    )


def report(found: dict, stats: dict, carrier_log: dict, outage_seconds: float) -> int:
    from django.conf import settings

    m = measure(found, stats, carrier_log)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"\nChaos run on {engine} + {settings.CELERY_BROKER_URL.split(':')[0]}")
    for name, value in figures(m, found, outage_seconds):
        print(f"  {name:<44} {value}")
    print(f"  {'audit vs received':<44} {'equal' if audit_settles(m) else 'DIFFERENT'}")
    ok = passed(m, found)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def count_duplicates(stats: dict, by_kind: dict) -> int:
    """More creations than submissions of a kind could only be a write made twice."""
    bulk_customers = by_kind["bulk_create"]["total"] * 50
    duplicates = max(
        0, stats["account_create"]["side_effects"] - by_kind["account_create"]["total"]
    )
    duplicates += max(0, stats["care_order"]["side_effects"] - by_kind["care_order"]["total"])
    return duplicates + max(0, stats["bulk_create"]["side_effects"] - bulk_customers)
