"""A write attempt costs a fixed, small number of queries (issue 16: lean writes)."""

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Customer
from orders.models import CareOrder, CarrierNotification
from portal.submissions import services as submissions
from portal.submissions.models import Status, Submission
from tests.accounts.test_create import CREATE, create_form, look_up
from tests.orders.test_order_flow import notification, push, submit

# The claim (one UPDATE ... RETURNING); the order read and marked "submitting" (one UPDATE ...
# RETURNING); the audit record; then the outcome: the submission, the order (its update reads
# back whether a push was held meanwhile), and the "submitting" and "accepted" events in one
# insert.
QUERIES_PER_ACCEPTED_ATTEMPT = 6
# The claim, the customer, the audit record, the submission's outcome, the customer's.
QUERIES_PER_ACCEPTED_ACCOUNT_ATTEMPT = 5


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"].upper()]


def test_an_accepted_care_order_attempt_costs_six_queries(alice, sandbox):
    sandbox.set_config(notify_url=None)
    order = submit(alice)

    with CaptureQueriesContext(connection) as queries:
        assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED

    sql = statements(queries)
    assert len(sql) <= QUERIES_PER_ACCEPTED_ATTEMPT, "\n".join(s[:120] for s in sql)
    order.refresh_from_db()
    assert order.status == order.Status.ACCEPTED
    events = list(order.events.values_list("from_status", "to_status", "source"))
    assert events == [
        ("draft", "queued", "portal"),
        ("queued", "submitting", "portal"),
        ("submitting", "accepted", "portal"),
    ]
    submitting, accepted = order.events.all()[1:]
    assert submitting.at < accepted.at  # as of the claim, not of the outcome


def test_an_accepted_account_creation_attempt_costs_five_queries(alice, alice_client, sandbox):
    look_up(alice_client)
    alice_client.post(CREATE, create_form())
    customer = Customer.objects.get()

    with CaptureQueriesContext(connection) as queries:
        assert submissions.make_attempt(customer.submission_id) == Status.SUCCEEDED

    sql = statements(queries)
    assert len(sql) <= QUERIES_PER_ACCEPTED_ACCOUNT_ATTEMPT, "\n".join(s[:120] for s in sql)
    customer.refresh_from_db()
    assert customer.state == Customer.State.CREATED


def test_a_push_during_the_call_is_held_and_applied_by_the_202(alice, sandbox, monkeypatch):
    """The carrier pushes "received" while the worker waits for its 202: the 202's own update
    reads back that a push was held, and applies it."""
    from orders import submissions as order_submissions

    sandbox.set_config(notify_url=None)
    order = submit(alice)
    sent = order_submissions.orders_api.submit_care_order
    answers = []

    def pushed_while_sending(*args, **kwargs):
        early = notification("received", conversation_id=str(order.conversation_id))
        answers.append(push(Client(), early).json())
        return sent(*args, **kwargs)

    monkeypatch.setattr(order_submissions.orders_api, "submit_care_order", pushed_while_sending)
    assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED

    assert answers == [{"outcome": "held"}]
    order.refresh_from_db()
    assert (order.status, order.held_pushes) == (CareOrder.Status.RECEIVED, 0)
    assert CarrierNotification.objects.get().outcome == "applied"
    statuses = list(order.events.values_list("to_status", flat=True))
    assert statuses == ["queued", "submitting", "accepted", "received"]


def test_a_retry_writes_the_submitting_event_once(alice, sandbox):
    sandbox.set_config(notify_url=None)
    sandbox.set_faults({"care_order": {"sequence": ["503"]}})
    order = submit(alice)

    assert submissions.make_attempt(order.submission_id) == Status.RETRYING
    statuses = list(order.events.values_list("to_status", flat=True))
    assert statuses == ["queued", "submitting"]  # the retry waits with its event written

    Submission.objects.filter(pk=order.submission_id).update(next_attempt_at=timezone.now())
    assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED
    statuses = list(order.events.values_list("to_status", flat=True))
    assert statuses == ["queued", "submitting", "accepted"]


def test_a_worker_that_dies_owing_the_submitting_event_has_it_written_by_the_sweeper(
    alice, sandbox
):
    order = submit(alice)
    claimed = submissions.claim(order.submission_id)  # the worker dies during its call
    Submission.objects.filter(pk=claimed.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert submissions.sweep()["reclaimed"] == 1
    assert submissions.sweep()["reclaimed"] == 0

    order.refresh_from_db()
    assert order.status == CareOrder.Status.SUBMITTING
    moves = list(order.events.values_list("from_status", "to_status"))
    assert moves == [("draft", "queued"), ("queued", "submitting")]
    assert order.events.last().at == claimed.updated_at  # as of the claim


def test_pins_erased_by_ops_during_the_call_stay_erased(alice, sandbox, monkeypatch):
    """The worker's copy of the order was read before the carrier call: finishing the attempt
    writes back only what it changed, never the PINs ops erased meanwhile."""
    from orders import submissions as order_submissions

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


def test_an_attempt_that_cannot_be_prepared_waits_for_its_next_try_not_its_lease(alice, sandbox):
    """Preparing the attempt (reading and marking the order) fails before anything is sent:
    the row goes back to wait for a retry at once, instead of staying in flight."""
    order = submit(alice)
    CareOrder.objects.filter(pk=order.pk).delete()  # what it would read is gone

    assert submissions.make_attempt(order.submission_id) is None

    submission = Submission.objects.get(pk=order.submission_id)
    assert submission.status == Status.RETRYING and submission.lease_expires_at is None
    assert "portal error" in submission.last_error
    assert sandbox.stats()["care_order"]["requests"] == 0
