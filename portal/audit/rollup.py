"""Audit records counted per local day (AuditDay), so the reports sum days instead of records.

The audit table is append-only, so a day's counts change only when records arrive for it or
retention removes its oldest ones. `roll_up` (run by beat, and by hand after a bulk load)
recounts just the days that new records touched, from the records themselves; the reports add
the few records that arrived since, so they are exact at every moment.

The rollup counts only sealed records (portal.audit.seal): appends take no lock, so ids need
not follow commit order, but the sealer takes records in id order once they have settled, so
no record at or below the sealed head can appear later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from portal.audit import seal
from portal.audit.models import (
    Action,
    AuditDay,
    AuditRecord,
    AuditRollupMark,
    AuditSealMark,
    Outcome,
)

CELL_FIELDS = ("day", "actor_id", "action", "api", "outcome")
# The funnel's writes: each counts once, when the carrier first accepts it.
FUNNEL_WRITES = (Action.ACCOUNT_CREATE, Action.CARE_ORDER)


def count_where(condition: Q) -> Count:
    """COUNT of the rows meeting `condition`."""
    return Count("pk", filter=condition)


def local_day() -> TruncDate:
    """A record's day in the portal's time zone, computed by the database."""
    return TruncDate("created_at", tzinfo=timezone.get_default_timezone())


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def first_success() -> Q:
    """An account creation or care order the carrier accepted, not seen accepted before.

    Attempts of one write share its idempotency key, so a replayed acceptance is not a second
    write; a record without a key counts on its own.
    """
    accepted_before = AuditRecord.objects.filter(
        action=OuterRef("action"),
        idempotency_key=OuterRef("idempotency_key"),
        outcome=Outcome.OK,
        id__lt=OuterRef("id"),
    )
    return Q(action__in=FUNNEL_WRITES, outcome=Outcome.OK) & (
        Q(idempotency_key="") | ~Exists(accepted_before)
    )


def cells(records: QuerySet[AuditRecord]) -> QuerySet:
    """The records counted per (day, actor, action, api, outcome), as AuditDay's fields."""
    return (
        records.order_by()
        .annotate(day=local_day())
        .values(*CELL_FIELDS)
        .annotate(
            calls=Count("pk"),
            first_attempts=count_where(Q(attempt=1)),
            first_successes=count_where(first_success()),
            last_at=Max("created_at"),
        )
    )


def _mark() -> AuditRollupMark:
    """The mark, locked for this transaction: one rollup at a time."""
    mark, _ = AuditRollupMark.objects.select_for_update().get_or_create(pk=1)
    return mark


def roll_up() -> int:
    """Count every sealed record the rollup does not hold yet; returns how many there were."""
    seal.seal_pending()  # whatever has settled, so the rollup is as fresh as it can be
    with transaction.atomic():
        mark = _mark()
        sealed = AuditSealMark.objects.filter(pk=1).values_list("last_id", flat=True).first()
        newest = sealed or 0
        if newest <= mark.last_record_id:
            return 0
        new = AuditRecord.objects.filter(id__gt=mark.last_record_id, id__lte=newest)
        arrived = new.count()
        days = set(new.order_by().annotate(day=local_day()).values_list("day", flat=True))
        _recount(days, upto=newest)
        mark.last_record_id = newest
        mark.save(update_fields=["last_record_id"])
    return arrived


def backlog() -> int:
    """Records the rollup does not hold yet: a few a minute when beat is running."""
    mark = AuditRollupMark.objects.filter(pk=1).values_list("last_record_id", flat=True).first()
    return AuditRecord.objects.filter(id__gt=mark or 0).count()


def recount_days(days: Iterable[date]) -> None:
    """Recount days whose records changed under the rollup (retention removed some)."""
    with transaction.atomic():
        mark = _mark()
        _recount(set(days), upto=mark.last_record_id)


def _recount(days: set[date], upto: int) -> None:
    if not days:
        return
    AuditDay.objects.filter(day__in=days).delete()
    in_days = Q()
    for first, last in _runs(sorted(days)):
        end = day_start(last + timedelta(1))
        in_days |= Q(created_at__gte=day_start(first), created_at__lt=end)
    counted = cells(AuditRecord.objects.filter(in_days, id__lte=upto))
    AuditDay.objects.bulk_create(
        (AuditDay(**row) for row in counted.iterator(chunk_size=2000)), batch_size=2000
    )


def _runs(days: list[date]) -> Iterable[tuple[date, date]]:
    """Consecutive days as (first, last) pairs: one range condition per run."""
    start = previous = days[0]
    for day in days[1:]:
        if day != previous + timedelta(1):
            yield start, previous
            start = day
        previous = day
    yield start, previous
