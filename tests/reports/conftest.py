"""The manager's week's known data, shared by the page's and the CSV's tests."""

import pytest
from django.core.management import call_command

from accounts.models import Customer
from portal.audit.models import Outcome
from portal.submissions.models import Status
from tests.conftest import _make_user
from tests.reports.makers import Order, account, at, bulk_batches, event, lookup, order


@pytest.fixture
def known_week(alice, bob, carol, olivia):
    """Central (alice, dana, eli, carol the manager) and East (bob), around Mar 2-8, 2026.

    Mar 8 is the day Chicago moves its clocks forward: the week is 167 hours long.
    """
    dana = _make_user("dana", "sales_rep", "Central")
    _make_user("eli", "sales_rep", "Central")  # a rep who did nothing: a row of zeros
    # Alice's orders. Placed last week, completed this week:
    order(alice, at("2026-02-27"), Order.COMPLETED, ended=at("2026-03-03"))
    # Placed last week, failed last week (never accepted):
    order(alice, at("2026-02-24"), Order.FAILED, ended=at("2026-02-25"), sent=Status.FAILED)
    # This week, from the first minutes of Monday to the last of Sunday:
    order(alice, at("2026-03-02", "00:05"), Order.COMPLETED, ended=at("2026-03-04"))
    order(alice, at("2026-03-03"), Order.FAILED, ended=at("2026-03-05"))  # after acceptance
    order(alice, at("2026-03-08", "23:30"), Order.ACCEPTED)
    order(alice, at("2026-03-04"), Order.REJECTED, ended=at("2026-03-04"), sent=Status.REJECTED)
    # Failed, re-queued by ops, failed again: one failed order.
    twice = order(alice, at("2026-03-05"), Order.FAILED, ended=at("2026-03-06"), sent=Status.FAILED)
    event(twice, Order.QUEUED, at("2026-03-06", "13:00"))
    event(twice, Order.FAILED, at("2026-03-07"))
    order(alice, None, Order.DRAFT)  # never placed
    order(alice, at("2026-03-09", "00:10"))  # the next week
    # Dana: one completed; one the carrier completed before its 202 was recorded.
    order(dana, at("2026-03-04"), Order.COMPLETED, ended=at("2026-03-05"))
    order(dana, at("2026-03-06"), Order.COMPLETED, ended=at("2026-03-06"), sent=Status.IN_FLIGHT)
    # Accounts, by when the carrier created them.
    account(alice, at("2026-03-03"))
    account(alice, at("2026-03-08", "23:59"))
    account(alice, at("2026-03-04"), state=Customer.State.REJECTED)
    account(alice, at("2026-02-26"))
    # Bulk customers carol sent, in batches the carrier accepted (a failed one does not count).
    bulk_batches(carol, at("2026-03-05"), [50, 7])
    bulk_batches(carol, at("2026-03-05"), [20], status=Status.FAILED)
    bulk_batches(carol, at("2026-02-25"), [3])
    # Lookups: each once, not its retry; some in the audit rollup, some after it.
    lookup(alice, at("2026-02-28"))
    lookup(alice, at("2026-03-02", "09:00"))
    call_command("roll_up_audit", verbosity=0)
    lookup(alice, at("2026-03-04"), outcome=Outcome.UNREACHABLE)
    lookup(alice, at("2026-03-04"), attempt=2)
    lookup(alice, at("2026-03-08", "23:30"))
    lookup(alice, at("2026-03-09", "00:10"))
    lookup(dana, at("2026-03-03"), outcome=Outcome.NOT_FOUND)
    # East: never in Central's numbers.
    order(bob, at("2026-03-04"), Order.COMPLETED, ended=at("2026-03-04"))
    account(bob, at("2026-03-04"))
    lookup(bob, at("2026-03-04"))
    return dana
