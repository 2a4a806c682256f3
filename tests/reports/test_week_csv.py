"""Every table of the manager's week as CSV: the same numbers the page shows."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.week import METRICS
from tests.reports.makers import WEEK, Order, order


def rows_of(client, user, table: str, **params) -> tuple[object, list[list[str]]]:
    client.force_login(user)
    response = client.get(reverse("audit:week_csv", args=[table]), {**WEEK, **params})
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content).decode()
    return response, list(csv.reader(io.StringIO(body)))


def test_the_per_rep_table(client, carol, known_week):
    response, rows = rows_of(client, carol, "reps")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="week-20260302-central-reps.csv"' in response["Content-Disposition"]
    assert rows[0][:4] == ["rep", "team", "placed_this_week", "placed_last_week"]
    assert len(rows[0]) == 2 + 2 * len(METRICS)
    by_rep = {row[0]: row[1:] for row in rows[1:]}
    assert list(by_rep) == ["Alice Tester", "Carol Tester", "Dana Tester", "Eli Tester"]
    assert by_rep["Alice Tester"] == [
        "Central",
        *["5", "2", "2", "0", "2", "1", "1", "0", "2", "1", "0", "0", "3", "1"],
    ]


def test_the_summary_and_the_funnel(client, carol, known_week):
    _, summary = rows_of(client, carol, "summary")
    _, funnel = rows_of(client, carol, "funnel")

    assert summary[0] == ["measure", "this_week", "last_week", "change"]
    assert summary[1] == ["Orders placed", "7", "2", "5"]
    assert summary[6] == ["Bulk customers sent", "57", "3", "54"]
    assert summary[3] == ["Orders failed", "2", "1", "1"]
    assert funnel == [
        [
            "step",
            "this_week",
            "this_week_percent_of_placed",
            "last_week",
            "last_week_percent_of_placed",
        ],
        ["Orders placed", "7", "", "2", ""],
        ["Accepted by the carrier", "5", "71.4", "1", "50.0"],
        ["Completed", "3", "42.9", "1", "50.0"],
    ]


def test_what_needs_action(client, alice, carol):
    failed = order(alice, timezone.now(), Order.FAILED, ended=timezone.now())

    _, rows = rows_of(client, carol, "needs-action", week="")

    assert rows[0] == ["list", "item", "rep", "status", "since", "path"]
    assert rows[1][:4] == [
        "Failed and rejected orders",
        f"Care order #{failed.pk}",
        "Alice Tester",
        "Failed",
    ]
    assert rows[1][5] == reverse("orders:detail", args=[failed.pk])


def test_an_unknown_table_is_a_404(client, carol):
    client.force_login(carol)

    assert client.get(reverse("audit:week_csv", args=["salaries"])).status_code == 404


@pytest.mark.parametrize("table", ["summary", "reps", "funnel", "needs-action"])
def test_every_table_the_page_links_is_there(client, carol, table):
    client.force_login(carol)

    html = client.get(reverse("audit:report")).content.decode()

    assert f'href="{reverse("audit:week_csv", args=[table])}?week=' in html


def test_a_table_runs_only_its_own_queries(client, carol, known_week):
    """A table's CSV works out only its part of the week: fewer queries than the whole page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(carol)

    def queries_of(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, WEEK)
            if response.streaming:
                b"".join(response.streaming_content)  # the rows are made as they stream
        return len(queries.captured_queries)

    page = queries_of(reverse("audit:report"))
    tables = {t: queries_of(reverse("audit:week_csv", args=[t])) for t in ("funnel", "summary")}

    # The needs-action lists alone are 6 queries, the funnel's few: neither CSV runs both.
    assert tables["funnel"] <= page - 10 and tables["summary"] <= page - 6, (tables, page)
