"""Create Customer Account: the lookup rule on the server, and the write through a real worker."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Customer
from portal.audit.models import Action, AuditRecord
from portal.submissions.models import Status, Submission
from tests.conftest import wait_until

LOOKUP = reverse("accounts:lookup")
CREATE = reverse("accounts:create")
NEW_CUSTOMER = {
    "account_name": "Brand New Widgets",
    "street": "500 Elm St",
    "city": "Plano",
    "state": "TX",
    "zip_code": "75075",
}


def create_form(**overrides) -> dict:
    """A complete, valid create form for NEW_CUSTOMER."""
    data = {
        "name": NEW_CUSTOMER["account_name"],
        "street": NEW_CUSTOMER["street"],
        "street_line2": "Suite 4",
        "city": "Plano",
        "state": "TX",
        "post_code": "75075",
        "country": "US",
        "phone_number": "(770) 331-6389",
        "location_name": "Headquarters",
        "duns_site_id": "123456789",
        "account_source_code": "SRC001",
        "mobility_sub_segment": "MID MARKETS MOBILITY 1",
        "id_position": "1",
        "channel_ind": "Y",
        "svid": "SVID123",
        "svid_name": "Some SVID Name",
        "complex_product_ind": "N",
        "number_of_employees": "250",
        "transaction_id": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def look_up(client, query=NEW_CUSTOMER) -> str:
    return client.get(LOOKUP, query).content.decode()


def settle(customer: Customer, timeout: float = 30) -> Customer:
    def settled():
        customer.refresh_from_db()
        return customer.is_settled

    wait_until(settled, timeout, message=f"customer {customer.pk} never settled")
    return customer


def test_it_refuses_to_create_without_a_lookup(alice_client, sandbox):
    response = alice_client.post(CREATE, create_form())

    assert response.status_code == 403
    assert "Look the customer up first" in response.content.decode()
    assert not Customer.objects.exists()
    assert not Submission.objects.exists()


def test_the_form_is_refused_without_a_lookup_too(alice_client, sandbox):
    response = alice_client.get(CREATE, NEW_CUSTOMER)

    assert response.status_code == 403
    assert "account_name=Brand+New+Widgets" in response.content.decode()


def test_another_reps_lookup_does_not_count(alice_client, bob, sandbox):
    bob_client = Client()
    bob_client.force_login(bob)
    look_up(bob_client)

    assert alice_client.post(CREATE, create_form()).status_code == 403


def test_changing_the_customer_after_the_lookup_is_refused(alice_client, sandbox):
    look_up(alice_client)

    response = alice_client.post(CREATE, create_form(post_code="75024"))

    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_a_lookup_older_than_30_minutes_does_not_count(alice_client, alice, sandbox):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.forms import LookupForm
    from accounts.services import Permit, creation_permit

    look_up(alice_client)
    form = LookupForm(NEW_CUSTOMER)
    assert form.is_valid()
    query = form.to_query()

    soon = timezone.now() + timedelta(minutes=29)
    later = timezone.now() + timedelta(minutes=31)
    assert creation_permit(alice, query, now=soon) is Permit.NO_MATCH
    assert creation_permit(alice, query, now=later) is Permit.NO_LOOKUP


def test_the_no_match_lookup_opens_a_prefilled_form(alice_client, alice, sandbox):
    page = look_up(alice_client)
    assert "Create the account" in page

    response = alice_client.get(CREATE, {**NEW_CUSTOMER, "country": "US"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Brand New Widgets"' in html
    assert 'value="500 Elm St"' in html
    assert "ar1234" in html or alice.profile.attuid in html
    assert 'name="override_reason"' not in html


def test_it_validates_each_field_and_keeps_the_input(alice_client, sandbox):
    look_up(alice_client)
    bad = create_form(
        phone_number="12345",
        duns_site_id="12-34",
        post_code="7507",
        number_of_employees="0",
        channel_ind="maybe",
    )

    response = alice_client.post(CREATE, bad)

    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a 10-digit US number" in html
    assert "Enter 9 digits." in html
    assert "Use a 5-digit ZIP" in html
    assert "At least 1 employee." in html
    assert "Select a valid choice" in html
    assert 'value="12345"' in html and 'value="Suite 4"' in html
    assert not Customer.objects.exists()


def test_matches_require_a_written_reason_that_managers_see(alice_client, carol, sandbox):
    pecan = {"account_name": "pecan", "street": "", "city": "Houston", "state": "TX"}
    pecan["zip_code"] = "77002"
    look_up(alice_client, pecan)
    form = create_form(name="pecan", street="9 Bayou Rd", city="Houston", post_code="77002")

    refused = alice_client.post(CREATE, form)
    assert refused.status_code == 400
    assert "The lookup found matches" in refused.content.decode()

    reason = "The matches are a dental office; this is the new farm co-op."
    response = alice_client.post(CREATE, {**form, "override_reason": reason, "needs_reason": "1"})
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.override_reason == reason

    manager = Client()
    manager.force_login(carol)
    assert reason in manager.get(reverse("accounts:customer", args=[customer.pk])).content.decode()


def test_a_double_submit_creates_one_request(alice_client, sandbox):
    look_up(alice_client)
    form = create_form()

    first = alice_client.post(CREATE, form)
    second = alice_client.post(CREATE, form)

    assert first.url == second.url
    assert Customer.objects.count() == Submission.objects.count() == 1


def test_reps_cannot_see_each_others_customers(alice_client, bob, carol, sandbox):
    look_up(alice_client)
    alice_client.post(CREATE, create_form())
    customer = Customer.objects.get()
    url = reverse("accounts:customer", args=[customer.pk])

    other = Client()
    other.force_login(bob)
    assert other.get(url).status_code == 404
    assert customer.name not in other.get(reverse("accounts:customers")).content.decode()
    other.force_login(carol)  # manager of alice's team
    assert other.get(url).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_it_creates_the_account_once_through_a_worker(alice_client, alice, sandbox, celery_worker):
    look_up(alice_client)

    response = alice_client.post(CREATE, create_form())

    customer = settle(Customer.objects.get())
    assert customer.state == Customer.State.CREATED
    assert customer.carrier_user_friendly_id.startswith("CO-")
    assert response.url == reverse("accounts:customer", args=[customer.pk])
    page = alice_client.get(response.url).content.decode()
    assert customer.carrier_user_friendly_id in page
    assert "6389" in page and "7703316389" not in page
    sent = sandbox.requests("account_create")[-1]
    assert sent["path"] == "/api/v1/customerAccount"
    assert sent["headers"]["x-transaction-id"] == customer.submission.idempotency_key
    assert sent["body"]["attuid"] == "al1234"
    assert sent["body"]["phoneNumber"] == "7703316389"
    assert sent["body"]["numberOfEmployees"] == 250
    assert set(sent["body"]) == {
        "country", "name", "street1", "street2", "city", "state", "postCode",
        "accountSourceCode", "locationName", "phoneNumber", "dunsSiteId", "mobilitySubSegment",
        "attuid", "idPosition", "channelInd", "svid", "svidName", "complexProductInd",
        "numberOfEmployees",
    }  # fmt: skip
    # The created account is found by the next lookup.
    assert "Brand New Widgets" in look_up(alice_client)


@pytest.mark.django_db(transaction=True)
def test_retries_keep_the_key_and_create_once(alice_client, sandbox, celery_worker):
    sandbox.set_faults({"account_create": {"sequence": ["500", "hang"], "hang_seconds": 4}})
    look_up(alice_client)

    alice_client.post(CREATE, create_form())

    customer = settle(Customer.objects.get())
    assert customer.state == Customer.State.CREATED
    assert customer.submission.attempts == 3
    assert sandbox.stats()["account_create"]["side_effects"] == 1
    records = AuditRecord.objects.filter(action=Action.ACCOUNT_CREATE).order_by("id")
    assert [r.attempt for r in records] == [1, 2, 3]
    assert {r.idempotency_key for r in records} == {customer.submission.idempotency_key}
    assert [r.outcome for r in records] == ["transient", "timeout", "ok"]
    assert len({r.trace_id for r in records}) == 3


@pytest.mark.django_db(transaction=True)
def test_a_4xx_is_rejected_with_its_reason_and_not_retried(alice_client, sandbox, celery_worker):
    rejected = {**NEW_CUSTOMER, "account_name": "REJECT Me Inc"}
    look_up(alice_client, rejected)

    response = alice_client.post(CREATE, create_form(name="REJECT Me Inc"))

    customer = settle(Customer.objects.get())
    assert customer.state == Customer.State.REJECTED
    assert customer.submission.status == Status.REJECTED
    assert customer.submission.attempts == 1
    assert sandbox.stats()["account_create"]["requests"] == 1
    assert "deny list" in alice_client.get(response.url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_lost_broker_message_is_swept_up_once(alice_client, sandbox, celery_worker, monkeypatch):
    monkeypatch.setattr("portal.submissions.services.enqueue", lambda *args, **kwargs: None)
    look_up(alice_client)

    alice_client.post(CREATE, create_form())

    customer = settle(Customer.objects.get())
    assert customer.state == Customer.State.CREATED
    assert sandbox.stats()["account_create"]["side_effects"] == 1
    assert sandbox.stats()["account_create"]["requests"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_call_is_recovered_once(alice_client, sandbox, celery_worker):
    # The carrier does the work, then the answer hangs; the worker dies waiting for it.
    sandbox.set_faults({"account_create": {"sequence": ["hang"], "hang_seconds": 30}})
    look_up(alice_client)
    alice_client.post(CREATE, create_form())
    customer = Customer.objects.get()
    wait_until(lambda: sandbox.stats()["account_create"]["requests"] == 1, message="not sent")

    celery_worker.kill()
    celery_worker.start()

    settle(customer, timeout=45)
    assert customer.state == Customer.State.CREATED
    assert customer.submission.attempts == 2
    assert sandbox.stats()["account_create"]["side_effects"] == 1
    assert sandbox.stats()["account_create"]["replays"] == 1


def _values(data):
    """Every value in a JSON body, at every depth."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    else:
        yield data


def test_empty_optional_fields_are_left_out_and_the_zip4_is_written_as_the_carrier_does(
    alice_client, sandbox
):
    optional_left_empty = create_form(
        street_line2="", location_name="", duns_site_id="", mobility_sub_segment="",
        id_position="", svid="", svid_name="", post_code="75075-1234",
    )  # fmt: skip
    alice_client.get(LOOKUP, {**NEW_CUSTOMER, "zip_code": "75075-1234"})

    alice_client.post(CREATE, optional_left_empty)

    body = Customer.objects.get().submission.payload
    assert not {None, ""} & set(_values(body)), body
    assert not {"street2", "locationName", "dunsSiteId", "svid", "svidName"} & set(body)
    assert body["postCode"] == "750751234"
    assert (body["channelInd"], body["complexProductInd"]) == ("Y", "N")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("variant", ["empty", "empty_object"])
def test_a_2xx_without_ids_creates_it_once_and_says_so(
    alice_client, sandbox, celery_worker, variant
):
    """Any 2xx is the carrier's yes: never sent again, even when its answer holds no id."""
    sandbox.set_faults({"account_create": {"answer": variant}})
    look_up(alice_client)

    response = alice_client.post(CREATE, create_form())

    customer = settle(Customer.objects.get())
    assert customer.state == Customer.State.CREATED
    assert customer.submission.attempts == 1
    assert sandbox.stats()["account_create"]["requests"] == 1
    assert "held no id" in alice_client.get(response.url).content.decode()


def test_another_reps_transaction_id_is_refused_with_a_message(alice_client, bob, sandbox):
    bob_client = Client()
    bob_client.force_login(bob)
    look_up(bob_client)
    bob_client.post(CREATE, bobs := create_form())
    look_up(alice_client)

    response = alice_client.post(CREATE, create_form(transaction_id=bobs["transaction_id"]))

    assert response.status_code == 409
    assert "This form cannot be sent: start again from the lookup." in response.content.decode()
    assert Customer.objects.get().created_by == bob and Submission.objects.count() == 1


def test_the_same_transaction_id_with_other_details_is_refused(alice_client, sandbox):
    look_up(alice_client)
    alice_client.post(CREATE, form := create_form())

    response = alice_client.post(CREATE, {**form, "phone_number": "(214) 555-0187"})

    html = response.content.decode()
    assert response.status_code == 409
    assert "This form was already sent with other details: start again from the lookup." in html
    assert 'value="(214) 555-0187"' in html  # nothing typed is lost
    assert Customer.objects.get().phone_number == "7703316389"
    assert Submission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_six_simultaneous_sends_of_one_form_make_one_customer_and_one_request(
    alice_client, sandbox, celery_worker, live_server
):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    look_up(alice_client)
    form = {**create_form(), "csrfmiddlewaretoken": "C" * 32}
    cookies = {"sessionid": alice_client.cookies["sessionid"].value, "csrftoken": "C" * 32}
    start = threading.Barrier(6)

    def send(_):
        start.wait(timeout=10)
        url = live_server.url + CREATE
        return requests.post(url, form, cookies=cookies, allow_redirects=False, timeout=30)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(send, range(6)))

    customer = settle(Customer.objects.get())  # one, created once
    assert [(r.status_code, r.headers.get("Location")) for r in responses] == [
        (302, reverse("accounts:customer", args=[customer.pk]))
    ] * 6
    assert customer.state == Customer.State.CREATED and Submission.objects.count() == 1
    key = customer.submission.idempotency_key
    sent = sandbox.requests("account_create")
    assert [r["headers"]["x-transaction-id"] for r in sent].count(key) == 1
