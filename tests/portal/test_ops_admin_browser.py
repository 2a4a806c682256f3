"""Ops in a browser: land on the ops home, cancel a write waiting to retry, with a confirmation
that says what a cancel does, and the list's next attempt with its date, time and zone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.submissions.models import Status, Submission
from tests.conftest import log_in
from tests.orders.test_requeue import attempt, place
from tests.security.conftest import grant_ops_permissions


@pytest.mark.django_db(transaction=True)
def test_ops_cancel_a_retrying_submission_in_the_admin(page, live_server, sandbox, alice, olivia):
    grant_ops_permissions()
    sandbox.set_faults({"care_order": {"sequence": ["503"]}})
    order = place(alice, pins={})
    assert attempt(order) == Status.RETRYING
    # Its next try an hour away: the run's own worker must not send it while ops look at it.
    waiting = Submission.objects.filter(pk=order.submission_id)
    waiting.update(next_attempt_at=timezone.now() + timedelta(hours=1))

    log_in(page, live_server, "olivia")
    assert page.url.endswith("/ops/"), "ops land on their home"
    page.get_by_role("link", name="Submissions waiting or failed").click()
    row = page.locator("#result_list tbody tr").filter(has_text=f"{order.submission_id}")
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} C[SD]T", row.inner_text())
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("cancel_queued")
    page.get_by_role("button", name="Run").click()

    page.get_by_role("heading", name="Cancel submissions?").wait_for()
    text = page.locator("#content").inner_text()
    assert "A cancelled write is never sent" in text and "idempotency key" not in text
    page.get_by_role("button", name="Yes, cancel").click()

    page.locator(".messagelist").get_by_text("Cancelled 1 of the 1 selected submission.").wait_for()
    assert Submission.objects.get(pk=order.submission_id).status == Status.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_an_in_flight_submission_is_not_cancelled(page, live_server, alice, olivia):
    grant_ops_permissions()
    busy = Submission.objects.create(
        kind="care_order", idempotency_key="busy", payload={}, status=Status.IN_FLIGHT
    )

    log_in(page, live_server, "olivia")
    page.goto(f"{live_server.url}/admin/submissions/submission/")
    page.locator("#result_list tbody tr input.action-select").check()
    page.locator("select[name=action]").select_option("cancel_queued")
    page.get_by_role("button", name="Run").click()

    page.get_by_text("only submissions not yet sent (queued or waiting to retry)").wait_for()
    busy.refresh_from_db()
    assert busy.status == Status.IN_FLIGHT


@pytest.mark.django_db(transaction=True)
def test_the_menu_folds_on_a_phone_and_reaches_every_item(page, live_server, olivia, carol):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "carol")
    menu = page.locator("nav[aria-label=Main]")
    assert not menu.get_by_role("link", name="Reports").is_visible(), "folded at first"

    menu.locator("summary").click()

    for name in ("Lookup", "Search", "Customers", "Bulk import", "Orders", "Reports"):
        assert menu.get_by_role("link", name=name, exact=True).is_visible(), name
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
