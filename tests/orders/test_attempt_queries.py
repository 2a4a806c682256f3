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


def test_pins_erased_by_ops_during_the_call_stay_erased(alice, sandbox, monkeypatch):
    """The worker's copy of the order was read before the carrier call: finishing the attempt
    writes back only what it changed, never the PINs ops erased meanwhile."""
    from orders import submissions as order_submissions
    from orders.models import CareOrder

    sandbox.set_config(notify_url=None)
    order = submit(alice, pins={"ChangeID1": "86420"})
    assert order.encrypted_pins
    sent = order_submissions.orders_api.submit_care_order

    def erased_while_sending(*args, **kwargs):
        CareOrder.objects.filter(pk=order.pk).update(encrypted_pins={})  # ops, meanwhile
        return sent(*args, **kwargs)

    monkeypatch.setattr(order_submissions.orders_api, "submit_care_order", erased_while_sending)
    assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED

    order.refresh_from_db()
    assert order.status == order.Status.ACCEPTED and order.encrypted_pins == {}
