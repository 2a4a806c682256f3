"""A write attempt costs a fixed, small number of queries (issue 16: lean writes)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.submissions import services as submissions
from portal.submissions.models import Status
from tests.orders.test_order_flow import submit

# claim (update, read with relations), the order sent, its event, the audit record; then the
# outcome: the submission, the order, its event, any pushes held for it.
QUERIES_PER_ACCEPTED_ATTEMPT = 9


def test_an_accepted_care_order_attempt_costs_nine_queries(alice, sandbox):
    sandbox.set_config(notify_url=None)
    order = submit(alice)

    with CaptureQueriesContext(connection) as queries:
        assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED

    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    assert len(statements) <= QUERIES_PER_ACCEPTED_ATTEMPT, "\n".join(s[:120] for s in statements)
    order.refresh_from_db()
    assert order.status == order.Status.ACCEPTED
