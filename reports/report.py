"""The carrier telemetry page's numbers and charts, each from one aggregate query."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from portal.audit.models import Action, Outcome
from reports.charts import Chart, DayVolume, latency_chart, volume_chart
from reports.queries import (
    ApiLatency,
    RepRow,
    daily_counts,
    failure_reasons,
    latency_by_api,
    rep_rows,
)
from reports.scope import Scope, filtered_records

OUTCOME_LABELS = dict(Outcome.choices)


@dataclass(frozen=True)
class CountedOnce:
    """Lookups or writes, each once however often it was retried or replayed."""

    label: str
    count: int


@dataclass
class Report:
    scope: Scope
    days: list[DayVolume]
    latency: list[ApiLatency]
    failures: list[dict]
    reps: list[RepRow]
    calls: int
    successes: int
    # Calls that repeated an earlier attempt: what retries cost the carrier.
    retries: int
    once_each: list[CountedOnce]
    actions: list[tuple[str, str]]
    volume_chart: Chart
    latency_chart: Chart

    @property
    def success_rate(self) -> float | None:
        return 100 * self.successes / self.calls if self.calls else None

    @property
    def failed(self) -> int:
        return self.calls - self.successes

    @property
    def volume_table(self) -> list[tuple[date, list[int], int]]:
        """The stacked chart's numbers, a row per day, for screen readers."""
        return [
            (day.day, [day.counts.get(action, 0) for action, _ in self.actions], day.total)
            for day in self.days
        ]


def build_report(scope: Scope) -> Report:
    """Every number of the report page, each from one aggregate query."""
    records = filtered_records(scope)
    counts = daily_counts(scope)
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in counts:
        if count.calls:
            per_day[count.day][count.action] += count.calls
    calls = sum(count.calls for count in counts)
    days = [DayVolume(day, dict(per_day.get(day, {}))) for day in scope.days()]
    seen = {action for day_counts in per_day.values() for action in day_counts}
    latency = latency_by_api(records)
    failures = failure_reasons(records)
    for failure in failures:
        failure["outcome_label"] = OUTCOME_LABELS.get(failure["outcome"], failure["outcome"])
        failure["share"] = 100 * failure["calls"] / calls if calls else 0.0
    return Report(
        scope=scope,
        days=days,
        latency=latency,
        failures=failures,
        reps=rep_rows(counts),
        calls=calls,
        successes=sum(count.successes for count in counts),
        retries=calls - sum(count.first_attempts for count in counts),
        once_each=[
            CountedOnce("Lookups made", sum(count.lookups for count in counts)),
            CountedOnce("Accounts created", sum(count.created for count in counts)),
            CountedOnce("Care orders accepted", sum(count.ordered for count in counts)),
        ],
        actions=[(value, label) for value, label in Action.choices if value in seen],
        volume_chart=volume_chart(days),
        latency_chart=latency_chart(latency),
    )
