"""Generated input for every form and the bulk file parser, and a carrier that answers garbage:
never an unhandled exception or a 500, problems are told as messages, no work is lost."""

import csv
import html
import io
import json
import uuid
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accounts import bulk
from accounts.forms import CustomerAccountForm
from accounts.models import BulkImport, Customer
from accounts.services import request_customer_account
from orders.forms import CareOrderForm, ChangeRequestForm, ItemForm, LabelForm, OrderForm
from orders.models import CareOrder
from portal.audit.models import AuditRecord
from portal.submissions.models import TERMINAL, Status, Submission
from portal.upstream.order_body import care_order_body, with_voicemail_pins
from tests.conftest import wait_until
from tests.orders.conftest import contract_breaches, empty_values
from tests.security.conftest import client_for, customer_file, make_order

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text as people and scripts paste it: any character but the surrogates a browser cannot send.
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
DIGITS = st.from_regex(r"[0-9() +.-]{0,24}", fullmatch=True)
SERVER_ERROR = b"Something went wrong"  # templates/500.html


@contextmanager
def each_example_apart():
    """An example's rows are rolled back after it: examples neither see nor break each other."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_handled(response, allowed=(200,)) -> None:
    assert response.status_code in allowed, (response.status_code, response.content[:500])
    assert SERVER_ERROR not in response.content


def assert_errors_shown(response, messages) -> None:
    """Every problem is told on the page, in words."""
    messages = list(messages)
    page = response.content.decode()
    for message in messages:
        assert html.escape(message) in page, message


def first_errors(form, only=None) -> list[str]:
    """The first error of each visible field (a hidden field's is not shown next to it)."""
    return [
        errors[0]
        for name, errors in form.errors.items()
        if (name not in form.fields or not form[name].is_hidden) and (only is None or name in only)
    ]


# -- Lookup ----------------------------------------------------------------------------------

LOOKUP_VALUES = {
    "account_name": st.one_of(ANY_TEXT, st.sampled_from(["pecan", "Zzyzx Nothing", "  ab  "])),
    "street": ANY_TEXT,
    "city": st.one_of(ANY_TEXT, st.sampled_from(["Houston", "Plano", " "])),
    "state": st.one_of(ANY_TEXT, st.sampled_from(["TX", "texas", "Tex.", "ZZ"])),
    "zip_code": st.one_of(
        ANY_TEXT, st.from_regex(r"[0-9]{5}([- ]?[0-9]{4})?", fullmatch=True), DIGITS
    ),
    "country": st.one_of(ANY_TEXT, st.just("US")),
}


@FUZZ
@given(
    data=st.fixed_dictionaries({}, optional=LOOKUP_VALUES),
    method=st.sampled_from(["GET", "POST"]),
    htmx=st.booleans(),
)
def test_the_lookup_answers_any_input(alice_client, sandbox, data, method, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    url = reverse("accounts:lookup")
    send = alice_client.post if method == "POST" else alice_client.get

    with each_example_apart():
        response = send(url, data, headers=headers)

    assert_handled(response)
    form = response.context["form"]
    if data and not htmx and not form.is_valid():
        assert first_errors(form), "refused without saying why"
        assert_errors_shown(response, first_errors(form))


# -- Create customer ------------------------------------------------------------------------

CREATE_VALUES = {
    name: st.one_of(ANY_TEXT, st.just(""))
    for name in CustomerAccountForm.base_fields
    if name != "transaction_id"
}
CREATE_VALUES |= {
    "phone_number": st.one_of(DIGITS, ANY_TEXT),
    "number_of_employees": st.one_of(st.integers(-5, 10**12).map(str), ANY_TEXT),
    "channel_ind": st.sampled_from(["Y", "N", "y", "", "maybe"]),
    "transaction_id": st.one_of(st.uuids().map(str), ANY_TEXT),
    "needs_reason": st.sampled_from(["1", "0", ""]),
}


@FUZZ
@given(data=st.fixed_dictionaries({}, optional=CREATE_VALUES))
def test_the_create_form_answers_any_input(alice_client, alice, data):
    form = CustomerAccountForm(data, needs_reason=data.get("needs_reason") == "1")
    if form.is_valid():
        assert form.carrier_body("al1234")["phoneNumber"].isdigit()
        form.lookup_query()
    else:
        assert form.errors

    with each_example_apart():
        response = alice_client.post(reverse("accounts:create"), data)

    # 400 with the form's errors, 403 "look it up first", or 302 to the new customer.
    assert_handled(response, allowed=(302, 400, 403))
    if response.status_code == 400:
        form = response.context["form"]
        assert b"Please correct the marked fields" in response.content
        # The fields on the page show their own error (the reason is shown only when needed).
        shown = [name for name in form.errors if name != "override_reason" or form.needs_reason]
        assert_errors_shown(response, first_errors(form, only=shown))


# -- Care order form ------------------------------------------------------------------------

INDEX = st.one_of(st.integers(0, 3).map(str), st.sampled_from(["", "-1", "x", "9999", "0 "]))
ACTIONS = st.one_of(
    st.sampled_from(["", "save", "submit"]),
    st.builds(
        "{}:{}".format,
        st.sampled_from(
            [
                "add_change_request",
                "remove_change_request",
                "add_item",
                "remove_item",
                "add_label",
                "remove_label",
            ]
        ),
        st.one_of(INDEX, st.builds("{}:{}".format, INDEX, INDEX)),
    ),
    ANY_TEXT,
)


def _field_value(name: str):
    if name in ("ctn", "contact_phone", "billing_phone", "subscriber_phone", "imei", "iccid"):
        return st.one_of(DIGITS, st.sampled_from(["359194077165205", "89014704272630325834"]))
    if name in ("effective_date", "expiration_date", "effective_on", "cancel_effective_on"):
        return st.one_of(ANY_TEXT, st.dates().map(str), st.datetimes().map(str))
    # The form's own words, and the carrier's (which the form does not take).
    words = ["", "update", "suspend", "cancel", "immediately", "next_billing_cycle", "date"]
    words += ["pin", "auto", "block", "unblock", "on", "updateSubscriber", "immediate", "True"]
    return st.one_of(ANY_TEXT, st.sampled_from(words))


@st.composite
def order_post(draw) -> QueryDict:
    """POST data shaped like the order page's, prefixes and index lists included, filled with
    anything; some keys are missing, some repeated, some indices nonsense."""
    query = QueryDict(mutable=True)
    for name in draw(st.lists(st.sampled_from(sorted(OrderForm.base_fields)), max_size=6)):
        query[name] = draw(_field_value(name))
    crs = draw(st.lists(INDEX, max_size=3))
    query.setlist("cr-TOTAL_FORMS", crs)  # formsets' counts: any number, repeated or nonsense
    query["cr-INITIAL_FORMS"] = draw(st.one_of(INDEX, ANY_TEXT))
    for cr in crs or ["0"]:
        prefix = f"cr-{cr}"
        fields = draw(st.lists(st.sampled_from(sorted(ChangeRequestForm.base_fields)), max_size=8))
        for name in fields:
            query[f"{prefix}-{name}"] = draw(_field_value(name))
        for kind, form in (("item", ItemForm), ("label", LabelForm)):
            rows = draw(st.lists(INDEX, max_size=2))
            query.setlist(f"{prefix}-{kind}-TOTAL_FORMS", rows)
            for row in rows:
                for name in draw(st.lists(st.sampled_from(sorted(form.base_fields)), max_size=3)):
                    query[f"{prefix}-{kind}-{row}-{name}"] = draw(_field_value(name))
    query["action"] = draw(ACTIONS)
    return query


VALID_ORDER = {
    "foundation_account_number": "81730304",
    "contact_first_name": "Alex",
    "contact_last_name": "Bell",
    "contact_phone": "(123) 456-7890",
    "contact_email": "alexbell@example.com",
    "cr-TOTAL_FORMS": "1",
    "cr-INITIAL_FORMS": "0",
    "cr-0-type": "update",
    "cr-0-change_request_id": "CR-1-fuzz",
    "cr-0-effective_when": "immediately",
    "cr-0-ctn": "(214) 555-0123",
    "cr-0-item-TOTAL_FORMS": "1",
    "cr-0-item-INITIAL_FORMS": "0",
    "cr-0-item-0-sku": "sku12037300017",
    "cr-0-item-0-action": "add",
}


@st.composite
def nearly_valid_order_post(draw) -> QueryDict:
    """A valid order with none, one or two of its values replaced by anything."""
    query = QueryDict(mutable=True)
    query.update(VALID_ORDER)
    for name in draw(st.lists(st.sampled_from(sorted(VALID_ORDER)), max_size=2, unique=True)):
        query[name] = draw(_field_value(name.rsplit("-", 1)[-1]))
    query["action"] = draw(st.one_of(st.sampled_from(["submit", "save"]), ACTIONS))
    return query


ORDER_POSTS = st.one_of(order_post(), nearly_valid_order_post())


@FUZZ
@given(data=ORDER_POSTS)
def test_the_order_builder_takes_any_post(data):
    builder = CareOrderForm(data=data)

    valid = builder.is_valid()

    assert isinstance(builder.error_list(), list)
    assert bool(builder.error_list()) == (not valid)
    again = CareOrderForm.from_draft_data(builder.draft_data())
    assert not again.is_bound
    builder.apply(data["action"])
    builder.header()
    if valid:
        body = care_order_body(builder.to_order())
        request = body["careOrderRequest"]
        assert request["changeRequest"]
        assert set(builder.voicemail_pins()) <= {
            cr["changeRequestId"] for cr in request["changeRequest"]
        }
        # Whatever was typed, what the form accepts the carrier's contract accepts too, and an
        # empty value is left out, never sent as null or "".
        assert list(empty_values(request)) == []
        assert contract_breaches(with_voicemail_pins(body, builder.voicemail_pins())) == []
    else:
        with pytest.raises(ValueError):
            builder.to_order()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3)
    ),
    max_leaves=12,
)


@FUZZ
@given(
    draft=st.one_of(
        JSON.filter(lambda value: value is not None),  # the column is NOT NULL
        st.fixed_dictionaries(
            {
                "order": st.one_of(
                    JSON, st.dictionaries(st.sampled_from(sorted(OrderForm.base_fields)), ANY_TEXT)
                ),
                # Lists where the form writes lists: a number there is a known crash, reported.
                "changeRequests": st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "fields": JSON,
                            "items": st.lists(JSON, max_size=3),
                            "labels": st.lists(JSON, max_size=3),
                        },
                    ),
                    max_size=3,
                ),
            }
        ),
    )
)
def test_a_draft_of_any_shape_opens(alice_client, alice, draft):
    """Drafts are JSON in the database: whatever one holds, the form opens again."""
    # What a database can hold: PostgreSQL's jsonb refuses a NUL (the forms refuse one too).
    assume("\\u0000" not in json.dumps(draft))
    with each_example_apart():
        order = CareOrder.objects.create(created_by=alice, draft_data=draft)
        response = alice_client.get(reverse("orders:edit", args=[order.pk]))

    assert_handled(response)


@FUZZ
@given(data=ORDER_POSTS, htmx=st.booleans())
def test_the_order_form_answers_any_post(alice_client, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    with each_example_apart():
        response = alice_client.post(reverse("orders:new"), data, headers=headers)

    assert_handled(response, allowed=(200, 302, 400))
    if response.status_code == 400:
        errors = response.context["builder"].error_list()
        assert errors, "refused without saying why"
        assert_errors_shown(response, [message for _, _, message in errors])


# -- Bulk file -------------------------------------------------------------------------------


@FUZZ
@given(head=st.one_of(st.binary(max_size=300), ANY_TEXT.map(str.encode)))
def test_sniff_accepts_or_explains(head):
    try:
        bulk.sniff(head)
    except bulk.FileProblem as problem:
        assert str(problem)


@FUZZ
@given(cells=st.lists(st.one_of(ANY_TEXT, st.sampled_from(bulk.COLUMNS + bulk.RESULT_COLUMNS))))
def test_header_columns_accepts_or_explains(cells):
    try:
        columns = bulk.header_columns(cells)
    except bulk.FileProblem as problem:
        assert str(problem)
    else:
        assert len(columns) == len(cells)
        assert "record_type" in columns


CELL = st.one_of(
    ANY_TEXT,
    st.sampled_from(
        [
            "",
            "US",
            "us",
            "XX",
            "2017-01-01T08:00:00Z",
            "2017-02-30T08:00:00Z",
            "OPEN",
            "CREDIT",
            "ACTIVE",
            "ALL;NONE",
            "1234",
            "412345",
            "C1;C2",
            "C1;C1",
        ]
    ),
)


@FUZZ
@given(
    record_type=st.sampled_from(sorted(bulk.RECORDS)),
    values=st.dictionaries(st.one_of(st.sampled_from(bulk.COLUMNS), ANY_TEXT), CELL),
)
def test_parse_record_reports_problems_as_words(record_type, values):
    record, problems = bulk.parse_record(record_type, values)

    assert set(record) == {field.name for field in bulk.RECORDS[record_type]}
    for column, reason in problems:
        assert isinstance(column, str) and isinstance(reason, str) and reason


@st.composite
def bulk_file(draw) -> bytes:
    """A CSV of customers, accounts and cards: mostly the format, some of it anything."""
    columns = draw(st.permutations(bulk.COLUMNS))
    columns = [c for c in columns if c == "record_type" or draw(st.booleans())]
    if draw(st.integers(0, 9)) == 0:
        columns.append(draw(ANY_TEXT))
    ids = st.sampled_from(["C1", "C2", "C3", "A1", "A2"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["customer", "account", "card", "", "CUSTOMER", "other"]))
        row = []
        for column in columns:
            if column == "record_type":
                row.append(kind)
            elif column in ("sourceCustomerId", "sourceAccountId", "primarySourceCustomerId"):
                row.append(draw(st.one_of(ids, CELL)))
            elif column == "sourceCustomerIds":
                row.append(draw(st.one_of(st.lists(ids, max_size=3).map(";".join), CELL)))
            else:
                row.append(draw(CELL))
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))]  # a short line
        writer.writerow(row)
    data = out.getvalue().encode()
    if draw(st.integers(0, 9)) == 0:
        data += draw(st.binary(max_size=20))
    return data


@FUZZ
@given(data=bulk_file())
def test_any_file_is_checked_or_refused_in_words(carol, data):
    with each_example_apart():
        check_file(carol, data)


def check_file(user, data: bytes) -> None:
    upload = SimpleUploadedFile("fuzz.csv", data, "text/csv")
    try:
        bulk_import = bulk.import_upload(upload, user=user)
    except bulk.FileProblem as problem:
        assert str(problem)
        assert not BulkImport.objects.filter(original_name="fuzz.csv").exists()
        return
    assert bulk_import.state == BulkImport.State.CHECKED
    assert bulk_import.row_count == bulk_import.good_row_count + bulk_import.bad_row_count
    assert bulk_import.good_customer_count <= bulk_import.customer_count
    for line, column, reason in bulk.listed_problems(bulk_import):
        assert line > 1 and column and reason
    rows = list(bulk.results_rows(bulk_import))
    assert len(rows) == bulk_import.row_count + 1
    bulk.progress(bulk_import)


@FUZZ
@given(data=st.one_of(bulk_file(), st.binary(max_size=400)))
def test_the_upload_page_answers_any_file(carol, data):
    client = client_for(carol)

    with each_example_apart():
        response = client.post(
            reverse("accounts:bulk"), {"file": SimpleUploadedFile("f.csv", data)}
        )
        assert_handled(response, allowed=(302, 400))
        if response.status_code == 302:
            assert_handled(client.get(response.url))
        else:
            assert_errors_shown(response, [response.context["form"].errors["file"][0]])


# -- A carrier that answers garbage ----------------------------------------------------------

LOOKUPS = [
    {"account_name": "pecan", "city": "Houston", "state": "TX", "zip_code": "77002"},
    {"account_name": "Zzyzx Nothing", "city": "Plano", "state": "TX", "zip_code": "75075"},
]
CUSTOMER_FORM = {
    "name": "Garbage Widgets",
    "street": "500 Elm St",
    "city": "Plano",
    "state": "TX",
    "post_code": "75075",
    "country": "US",
    "phone_number": "7703316389",
    "account_source_code": "SRC001",
    "channel_ind": "N",
    "complex_product_ind": "N",
    "number_of_employees": "5",
}


def queue_writes(alice, carol, tag: str) -> list[int]:
    """One write of each kind through the services; their tasks go out on commit."""
    form = CustomerAccountForm({**CUSTOMER_FORM, "transaction_id": str(uuid.uuid4())})
    assert form.is_valid(), form.errors
    customer = request_customer_account(form, alice)
    order = make_order(alice, f"PO-{tag}")
    upload = SimpleUploadedFile(f"{tag}.csv", customer_file(f"{tag}-1", f"{tag}-2"))
    bulk_import = bulk.import_upload(upload, user=carol)
    bulk.send_import(bulk_import, user=carol)
    batches = list(bulk_import.batches.values_list("submission_id", flat=True))
    return [customer.submission_id, order.submission_id, *batches]


def pages_while_broken(client) -> None:
    """The read pages say what went wrong, in words, with the carrier answering garbage."""
    for query in LOOKUPS:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(reverse("accounts:lookup"), query, headers=headers)
            assert_handled(response)
            assert b"notice-error" in response.content
    for params in ({}, {"serviceType": "WIRELESS", "page": "2"}):
        response = client.get(reverse("accounts:search"), params)
        assert_handled(response)
        assert b"notice-error" in response.content
    individual = reverse("accounts:search_individual", args=["IND-1"])
    assert_handled(client.get(individual))


WRITES = ("account_create", "care_order", "bulk_create")


@pytest.mark.django_db(transaction=True)
def test_a_carrier_answering_garbage_loses_nothing(alice, carol, sandbox, celery_worker, settings):
    settings.UPSTREAM_LOOKUP_READ_TIMEOUT = 1
    log_start = len(celery_worker.logs())
    rep = client_for(alice)
    sandbox.set_config(notify_url=None)  # no milestones: the order stays as its 2xx left it
    sandbox.set_faults({"*": {"malformed_rate": 1.0}})

    pages_while_broken(rep)
    broken = queue_writes(alice, carol, "broken")

    def settled(ids):
        return all(s.status in TERMINAL for s in Submission.objects.filter(pk__in=ids))

    wait_until(lambda: settled(broken), 60, message="garbage answers never settled")
    for submission in Submission.objects.filter(pk__in=broken):
        # A garbled 2xx is still the carrier's yes: taken at once, never sent again (a resend
        # could create it twice), and recorded.
        assert submission.status == Status.SUCCEEDED, submission
        assert submission.attempts == 1
        attempts = AuditRecord.objects.filter(idempotency_key=submission.idempotency_key)
        assert attempts.count() == 1
        if submission.kind != "care_order":  # the 202 has no body: half of it is none too
            assert "could not be read" in attempts.get().error
    stats = sandbox.stats()
    assert [stats[name]["requests"] for name in WRITES] == [1, 1, len(broken) - 2]
    customer = Customer.objects.get(submission_id=broken[0])
    order = CareOrder.objects.get(submission_id=broken[1])
    batch = Submission.objects.get(pk=broken[2]).bulk_batch
    assert customer.state == Customer.State.CREATED
    assert "held no id" in customer.problem
    assert (order.status, order.carrier_order_id) == (CareOrder.Status.ACCEPTED, "")
    assert (batch.request_id, batch.error) == ("", "")
    # Their pages say so, as does the import's.
    customer_page = rep.get(reverse("accounts:customer", args=[customer.pk]))
    assert b"Created at the carrier" in customer_page.content
    assert html.escape(customer.problem).encode() in customer_page.content
    assert b"Accepted" in rep.get(reverse("orders:detail", args=[order.pk])).content
    import_page = client_for(carol).get(
        reverse("accounts:bulk_import", args=[batch.bulk_import_id])
    )
    assert_handled(import_page)

    # Then every kind of fault in turn, then a carrier that works again.
    mixed = ["500", "429", "hang", "ok"]
    sandbox.set_faults(
        {
            name: {"sequence": mixed, "hang_seconds": 3, "retry_after": 1}
            for name in ("lookup", "search", *WRITES)
        }
    )
    for query in LOOKUPS:
        assert_handled(rep.get(reverse("accounts:lookup"), query))
    assert_handled(rep.get(reverse("accounts:search")))
    recovered = queue_writes(alice, carol, "mixed")

    wait_until(lambda: settled(recovered), 90, message="mixed faults never settled")
    for submission in Submission.objects.filter(pk__in=recovered):
        # Three faults, then the fourth attempt goes through with the same key.
        assert submission.status == Status.SUCCEEDED, submission
        attempts = AuditRecord.objects.filter(idempotency_key=submission.idempotency_key)
        assert attempts.count() == submission.attempts == 4
    assert Submission.objects.filter(pk__in=broken + recovered).count() == len(broken + recovered)
    # The hang was worked before its answer was lost: the retry found it, nothing twice.
    order = CareOrder.objects.get(submission_id=recovered[1])
    assert order.status == CareOrder.Status.ACCEPTED
    assert sandbox.stats()["care_order"]["side_effects"] == 2
    assert celery_worker.process.poll() is None, "the worker died"
    worker_log = celery_worker.logs()[log_start:]
    assert "unexpected error" not in worker_log and "Traceback" not in worker_log
