"""Unit tests of the submission mechanism. The carrier is faked at the portal.upstream boundary:
a handler that scripts outcomes, a scripted wire under the real upstream senders, or the sandbox.
"""

import dataclasses
import io
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from django.utils import timezone
from requests.structures import CaseInsensitiveDict

from portal.audit.models import AuditRecord, Outcome
from portal.submissions import services
from portal.submissions.models import Status, Submission
from portal.upstream import accounts as accounts_api
from portal.upstream import bulk as bulk_api
from portal.upstream import errors, http, order_body
from portal.upstream import orders as orders_api
from tests.orders.conftest import EXAMPLE_ORDER

KIND = "test_write"
# The API a fake write names in the audit record of an attempt whose worker died.
TEST_API = http.Api("test", "CARRIER_ORDERS_URL")


class FakeCarrier:
    """Answers each send with the next scripted outcome (an exception or a response)."""

    def __init__(self):
        self.script: list = []
        self.sent: list[tuple[str, int]] = []
        self.outcomes: list[str] = []
        # What a re-queue must have answered first, and the answers it was given.
        self.questions: dict[str, str] = {}
        self.answers: list[dict] = []

    def send(self, submission):
        self.sent.append((submission.idempotency_key, submission.attempts))
        outcome = self.script.pop(0) if self.script else {"ok": True}
        if isinstance(outcome, Exception):
            raise outcome
        return SimpleNamespace(status=200, data=outcome, result=outcome, audit=None)

    def handler(self) -> services.Handler:
        return services.Handler(
            send=self.send,
            api=TEST_API,
            succeeded=lambda s, r: self.outcomes.append("succeeded"),
            rejected=lambda s, f: self.outcomes.append("rejected"),
            failed=lambda s, f: self.outcomes.append("failed"),
            cancelled=lambda s, by_ops: self.outcomes.append(
                "cancelled by ops" if by_ops else "cancelled"
            ),
            requeue_questions=lambda s: dict(self.questions),
            requeue_answered=lambda s, answers: self.answers.append(answers),
        )


@pytest.fixture
def carrier(settings):
    settings.SUBMISSION_RETRY_DEADLINE_SECONDS = 24 * 3600
    fake = FakeCarrier()
    services.register(KIND, fake.handler())
    return fake


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        services, "enqueue", lambda pk, countdown=None: calls.append((pk, countdown))
    )
    return calls


@pytest.fixture
def submission(db, carrier, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.create_submission(KIND, payload={"a": 1}, idempotency_key="key-1")


def make_due(submission: Submission) -> None:
    Submission.objects.filter(pk=submission.pk).update(next_attempt_at=timezone.now())


def pass_the_deadline(submission: Submission) -> None:
    Submission.objects.filter(pk=submission.pk).update(give_up_at=timezone.now())


def fail_for_good(submission: Submission, carrier: FakeCarrier) -> None:
    """One transient failure past the submission's deadline: it fails."""
    pass_the_deadline(submission)
    make_due(submission)
    carrier.script = [errors.TransientError("HTTP 503: down", status=503)]
    assert services.make_attempt(submission.pk) == Status.FAILED
    submission.refresh_from_db()


def test_it_is_enqueued_only_after_commit(
    db, carrier, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = services.create_submission(KIND, payload={}, idempotency_key="k")
        assert enqueued == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert enqueued == [(submission.pk, None)]


def test_a_success_is_recorded_once(submission, carrier):
    assert services.make_attempt(submission.pk) == Status.SUCCEEDED
    submission.refresh_from_db()

    assert submission.status == Status.SUCCEEDED
    assert submission.attempts == 1 and submission.finished_at is not None
    assert carrier.outcomes == ["succeeded"]
    # A second message for the same row finds nothing to do.
    assert services.make_attempt(submission.pk) is None
    assert len(carrier.sent) == 1


def test_a_claimed_row_cannot_be_claimed_twice(submission):
    assert services.claim(submission.pk) is not None
    assert services.claim(submission.pk) is None


def test_a_4xx_is_rejected_without_retry(submission, carrier):
    carrier.script = [errors.PermanentError("bad zip", status=400)]

    assert services.make_attempt(submission.pk) == Status.REJECTED

    submission.refresh_from_db()
    assert (submission.status, submission.last_error, submission.last_status) == (
        Status.REJECTED,
        "bad zip",
        400,
    )
    assert submission.last_answer == {"status": 400, "headers": {}, "body": ""}
    assert carrier.outcomes == ["rejected"]
    assert len(carrier.sent) == 1


def test_transient_errors_retry_with_the_same_key_until_the_deadline_then_fail(
    submission, carrier, enqueued, django_capture_on_commit_callbacks
):
    carrier.script = [errors.TransientError("503", status=503) for _ in range(8)]

    # Before its deadline a write is retried however many attempts it takes, not a count.
    for _ in range(7):
        make_due(submission)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.make_attempt(submission.pk) == Status.RETRYING
    pass_the_deadline(submission)
    make_due(submission)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.make_attempt(submission.pk) == Status.FAILED

    submission.refresh_from_db()
    assert (submission.status, submission.last_status, submission.last_error) == (
        Status.FAILED,
        503,
        "503",
    )
    assert [key for key, _ in carrier.sent] == ["key-1"] * 8
    assert [attempt for _, attempt in carrier.sent] == list(range(1, 9))
    assert carrier.outcomes == ["failed"]
    # Each retry was enqueued with a delay; the last failure was not enqueued again.
    assert len(enqueued) == 1 + 7
    assert all(countdown is not None and countdown > 0 for _, countdown in enqueued[1:])


def test_a_retry_after_past_the_deadline_fails_now(submission, carrier, settings):
    Submission.objects.filter(pk=submission.pk).update(
        give_up_at=timezone.now() + timedelta(seconds=30)
    )
    carrier.script = [errors.TransientError("HTTP 429: slow down", status=429, retry_after=120)]

    assert services.make_attempt(submission.pk) == Status.FAILED

    submission.refresh_from_db()
    assert (submission.attempts, submission.last_error) == (1, "HTTP 429: slow down")
    assert carrier.outcomes == ["failed"]


def test_a_retry_waits_for_its_time(submission, carrier, monkeypatch):
    monkeypatch.setattr(services.random, "uniform", lambda low, high: high)
    carrier.script = [errors.UpstreamTimeout("slow")]
    assert services.make_attempt(submission.pk) == Status.RETRYING

    # Too early: the row is not due yet.
    assert services.make_attempt(submission.pk) is None
    submission.refresh_from_db()
    assert submission.status == Status.RETRYING
    assert submission.next_attempt_at > timezone.now()


def test_backoff_grows_with_full_jitter_and_honours_retry_after(settings, monkeypatch):
    settings.SUBMISSION_BACKOFF_BASE_SECONDS = 2
    settings.SUBMISSION_BACKOFF_CAP_SECONDS = 300
    assert 0 <= services.backoff_delay(1) <= 2
    assert 0 <= services.backoff_delay(4) <= 16

    windows = []
    monkeypatch.setattr(
        services.random, "uniform", lambda low, high: windows.append((low, high)) or high
    )
    # The window's top doubles per attempt up to the cap, for any number of attempts.
    attempts = (1, 2, 4, 8, 9, 20, 10_000)
    assert [services.backoff_delay(n) for n in attempts] == [2, 4, 16, 256, 300, 300, 300]
    # Full jitter: anywhere from now to the top of the window.
    assert {low for low, _ in windows} == {0}
    assert services.backoff_delay(1, retry_after=30) == 30
    assert services.backoff_delay(1, retry_after=10_000) == 300


def test_the_sweeper_reclaims_an_expired_lease(submission, carrier, enqueued, settings):
    services.claim(submission.pk)
    Submission.objects.filter(pk=submission.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    enqueued.clear()

    assert services.sweep() == {"reclaimed": 1, "enqueued": 1}

    submission.refresh_from_db()
    assert submission.status == Status.RETRYING
    # The lost attempt may have reached the carrier: it has its audit record.
    lost = AuditRecord.objects.get()
    assert (lost.outcome, lost.attempt, lost.idempotency_key) == ("lost", 1, "key-1")
    # It names the API the handler calls.
    assert (lost.api, lost.url) == ("test", settings.CARRIER_ORDERS_URL.rstrip("/"))
    assert enqueued == [(submission.pk, None)]
    assert services.make_attempt(submission.pk) == Status.SUCCEEDED


def test_the_sweeper_re_enqueues_a_lost_message(submission, enqueued, settings):
    settings.SUBMISSION_SWEEP_GRACE_SECONDS = 30
    enqueued.clear()
    assert services.sweep()["enqueued"] == 0  # just queued: its message may still be coming

    Submission.objects.filter(pk=submission.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.sweep() == {"reclaimed": 0, "enqueued": 1}
    assert enqueued == [(submission.pk, None)]


def test_a_late_worker_cannot_overwrite_a_reclaimed_row(submission, carrier):
    stale = services.claim(submission.pk)
    Submission.objects.filter(pk=submission.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.sweep()
    services.make_attempt(submission.pk)  # the new attempt succeeds

    # The first worker comes back with its old attempt's failure: it changes nothing.
    services._after_failure(stale, carrier.handler(), errors.PermanentError("late", status=400))

    submission.refresh_from_db()
    assert submission.status == Status.SUCCEEDED
    assert carrier.outcomes == ["succeeded"]


def test_ops_requeue_keeps_the_key_and_goes_on_counting(submission, carrier, enqueued, settings):
    carrier.script = [errors.TransientError("x")]
    assert services.make_attempt(submission.pk) == Status.RETRYING
    fail_for_good(submission, carrier)
    assert submission.attempts == 2

    assert services.requeue(submission) is True

    submission.refresh_from_db()
    assert submission.status == Status.QUEUED and submission.finished_at is None
    # A new deadline, from now.
    deadline = timezone.now() + timedelta(seconds=settings.SUBMISSION_RETRY_DEADLINE_SECONDS)
    assert deadline - timedelta(minutes=1) < submission.give_up_at <= deadline
    assert services.make_attempt(submission.pk) == Status.SUCCEEDED
    submission.refresh_from_db()
    assert submission.idempotency_key == "key-1"
    # Each attempt keeps its own number (and its own audit record).
    assert submission.attempts == 3
    assert carrier.sent == [("key-1", 1), ("key-1", 2), ("key-1", 3)]
    assert carrier.answers == [{}]
    assert services.requeue(submission) is False  # only a failed one


def test_a_requeue_waits_for_the_answers_its_handler_asks_for(submission, carrier, enqueued):
    fail_for_good(submission, carrier)
    carrier.questions = {"CR-1": "Change request CR-1: its voicemail PIN was erased."}

    assert services.requeue_questions(submission) == carrier.questions
    assert services.requeue(submission) is False
    assert services.requeue(submission, {"other": "1234"}) is False
    submission.refresh_from_db()
    assert submission.status == Status.FAILED and carrier.answers == []

    assert services.requeue(submission, {"CR-1": ""}) is True
    submission.refresh_from_db()
    assert submission.status == Status.QUEUED
    assert carrier.answers == [{"CR-1": ""}]


def test_only_a_write_waiting_to_be_sent_can_be_cancelled(submission, carrier):
    assert services.cancel(submission) is True
    submission.refresh_from_db()
    assert submission.status == Status.CANCELLED
    assert carrier.outcomes == ["cancelled"]
    assert services.make_attempt(submission.pk) is None
    assert carrier.sent == []

    # Waiting to retry: ops may cancel it; it is never sent again.
    waiting = services.create_submission(KIND, payload={}, idempotency_key="key-2")
    carrier.script = [errors.TransientError("x")]
    assert services.make_attempt(waiting.pk) == Status.RETRYING
    assert services.cancel(waiting, by_ops=True) is True
    make_due(waiting)
    assert services.make_attempt(waiting.pk) is None
    assert carrier.outcomes == ["cancelled", "cancelled by ops"]

    # In flight (it may be taking effect right now) or finished: never.
    in_flight = services.create_submission(KIND, payload={}, idempotency_key="key-3")
    services.claim(in_flight.pk)
    assert services.cancel(in_flight) is False
    done = services.create_submission(KIND, payload={}, idempotency_key="key-4")
    assert services.make_attempt(done.pk) == Status.SUCCEEDED
    assert services.cancel(done) is False
    assert Submission.objects.get(pk=in_flight.pk).status == Status.IN_FLIGHT
    assert carrier.outcomes == ["cancelled", "cancelled by ops", "succeeded"]


def test_a_bug_in_a_handler_retries_instead_of_stranding_the_row(submission, carrier):
    carrier.script = [ZeroDivisionError()]

    assert services.make_attempt(submission.pk) == Status.RETRYING
    # It may have struck after the call left, before its audit record (chaos saw a request
    # the carrier received with no record): the attempt is recorded with its outcome unknown.
    lost = AuditRecord.objects.get()
    assert (lost.outcome, lost.attempt) == (Outcome.LOST, 1)
    assert lost.error == "portal error: ZeroDivisionError; the call's outcome is unknown"


def test_a_bug_after_the_attempt_was_recorded_adds_no_second_record(submission, carrier):
    def send_then_break(sub):
        AuditRecord.objects.create(
            action=KIND,
            api="test",
            method="POST",
            url="u",
            outcome=Outcome.OK,
            attempt=sub.attempts,
            idempotency_key=sub.idempotency_key,
        )
        raise ZeroDivisionError

    services.register(KIND, dataclasses.replace(carrier.handler(), send=send_then_break))

    assert services.make_attempt(submission.pk) == Status.RETRYING
    assert list(AuditRecord.objects.values_list("outcome", flat=True)) == [Outcome.OK]


def test_a_sweeper_that_dies_mid_reclaim_leaves_the_lease_to_expire_again(
    submission, carrier, monkeypatch
):
    services.claim(submission.pk)
    Submission.objects.filter(pk=submission.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    def die(*args):
        raise SystemExit("killed")

    record_lost = services._audit_lost_attempt
    monkeypatch.setattr(services, "_audit_lost_attempt", die)
    with pytest.raises(SystemExit):
        services.sweep()

    # Never reclaimed without its audit record: the next sweep finds it and records it.
    submission.refresh_from_db()
    assert submission.status == Status.IN_FLIGHT
    monkeypatch.setattr(services, "_audit_lost_attempt", record_lost)
    assert services.sweep()["reclaimed"] == 1
    assert AuditRecord.objects.get().outcome == Outcome.LOST


def test_admin_actions_ask_first_then_act_and_log(client, olivia, submission, carrier):
    from django.contrib.admin.models import LogEntry

    client.force_login(olivia)
    url = "/admin/submissions/submission/"
    chosen = {"action": "cancel_queued", "_selected_action": [submission.pk]}

    asked = client.post(url, chosen)
    assert asked.status_code == 200
    assert "Cancel 1 of the 1 selected" in asked.content.decode()
    submission.refresh_from_db()
    assert submission.status == Status.QUEUED  # nothing happens before confirmation

    response = client.post(url, {**chosen, "confirm": "yes"})

    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == Status.CANCELLED
    assert "Cancelled 1 of the 1 selected submission." in client.get(url).content.decode()
    entry = LogEntry.objects.get(object_id=str(submission.pk))
    assert entry.user == olivia and "Cancel by ops" in entry.get_change_message()
    assert carrier.outcomes == ["cancelled by ops"]
    assert not AuditRecord.objects.exists()  # nothing reached the carrier


def test_the_system_status_page_shows_the_queue(client, olivia, alice, submission):
    services.claim(submission.pk)
    Submission.objects.filter(pk=submission.pk).update(
        lease_expires_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(olivia)

    page = client.get("/admin/status/").content.decode()

    assert "Submission queue" in page and "Stuck submissions" in page
    assert f"/admin/submissions/submission/{submission.pk}/change/" in page
    client.force_login(alice)
    assert client.get("/admin/status/").status_code == 302  # not staff: to the admin login


# -- The real writes: the upstream layer's own senders, each 2xx taken whatever its body ---------

NEW_ACCOUNT = accounts_api.NewAccount(
    name="Unreadable Widgets",
    street="1 Main St",
    city="Plano",
    state="TX",
    zip_code="75075",
    country="US",
)


@dataclasses.dataclass(frozen=True)
class Write:
    """One of the carrier's writes, as the portal sends it: its API, a valid body, its sender."""

    api: http.Api
    payload: Callable[[], dict]
    send: Callable[[Submission], http.Response]


def _create_account(submission: Submission) -> http.Response:
    return accounts_api.create_customer_account(
        submission.payload, transaction_id=submission.idempotency_key, attempt=submission.attempts
    )


def _place_care_order(submission: Submission) -> http.Response:
    return orders_api.submit_care_order(
        submission.payload,
        conversation_id=f"conversation-{submission.pk}",
        message_id=submission.idempotency_key,
        attempt=submission.attempts,
    )


def _send_batch(submission: Submission) -> http.Response:
    return bulk_api.create_customers(
        submission.payload, batch_key=submission.idempotency_key, attempt=submission.attempts
    )


# Keyed by the sandbox's endpoint names.
WRITES = {
    "account_create": Write(
        http.ACCOUNTS, lambda: accounts_api.account_body(NEW_ACCOUNT), _create_account
    ),
    "care_order": Write(
        http.ORDERS, lambda: order_body.care_order_body(EXAMPLE_ORDER), _place_care_order
    ),
    "bulk_create": Write(
        http.BULK,
        lambda: bulk_api.batch_body(
            [{"sourceCustomerId": "UNREADABLE-1", "country": "US"}], [], []
        ),
        _send_batch,
    ),
}


class Writes:
    """The three writes registered as kinds of their own; what each outcome was given."""

    def __init__(self):
        self.outcomes: list[str] = []
        self.successes: list[http.Response] = []
        for endpoint, write in WRITES.items():
            services.register(
                self.kind(endpoint),
                services.Handler(
                    send=write.send,
                    api=write.api,
                    succeeded=self._succeeded,
                    rejected=lambda s, f: self.outcomes.append("rejected"),
                    failed=lambda s, f: self.outcomes.append("failed"),
                ),
            )

    @staticmethod
    def kind(endpoint: str) -> str:
        return f"test_{endpoint}"

    def _succeeded(self, submission, response) -> None:
        self.outcomes.append("succeeded")
        self.successes.append(response)

    def create(self, endpoint: str, payload: dict | None = None) -> Submission:
        return services.create_submission(
            self.kind(endpoint),
            payload=payload if payload is not None else WRITES[endpoint].payload(),
            idempotency_key=str(uuid.uuid4()),
        )


@pytest.fixture
def writes(db, enqueued):
    return Writes()


class ScriptedWire(requests.adapters.BaseAdapter):
    """The network under portal.upstream.http: each request gets the next scripted answer
    (status, headers, body), the last one again once the script runs out."""

    def __init__(self):
        super().__init__()
        self.script: list[tuple[int, dict[str, str], bytes]] = [(200, {}, b"")]
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        status, headers, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body)
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def wire(monkeypatch):
    """Every upstream call goes through a real requests session to the scripted wire."""
    adapter = ScriptedWire()
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    monkeypatch.setattr(http, "session_for", lambda api: session)
    return adapter


def assert_never_sent_again(submission: Submission) -> None:
    """Not by another message, the sweeper or ops: a success is final."""
    Submission.objects.filter(pk=submission.pk).update(next_attempt_at=timezone.now())
    assert services.make_attempt(submission.pk) is None
    assert services.sweep() == {"reclaimed": 0, "enqueued": 0}
    assert services.requeue(submission) is False
    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (Status.SUCCEEDED, 1)


# (endpoint, the sandbox's faults for it, whether the portal could read nothing from the body)
UNREADABLE_ANSWERS = [
    pytest.param("account_create", {"answer": "empty"}, False, id="account: no body"),
    pytest.param("account_create", {"answer": "empty_object"}, True, id="account: {}"),
    pytest.param("account_create", {"sequence": ["malformed"]}, True, id="account: cut JSON"),
    pytest.param("care_order", {"answer": "documented"}, False, id="care order: no body"),
    pytest.param("care_order", {"answer": "empty_object"}, False, id="care order: {}"),
    pytest.param(
        "care_order", {"answer": "with_id", "sequence": ["malformed"]}, True, id="care order: cut"
    ),
    pytest.param("bulk_create", {"answer": "empty"}, False, id="bulk: no body"),
    pytest.param("bulk_create", {"answer": "empty_object"}, True, id="bulk: {}"),
    pytest.param("bulk_create", {"sequence": ["malformed"]}, True, id="bulk: cut JSON"),
]


@pytest.mark.parametrize(("endpoint", "faults", "unreadable"), UNREADABLE_ANSWERS)
def test_it_takes_a_2xx_it_cannot_read_as_done_and_never_sends_it_again(
    sandbox, writes, endpoint, faults, unreadable
):
    sandbox.set_faults({endpoint: faults})
    submission = writes.create(endpoint)

    assert services.make_attempt(submission.pk) == Status.SUCCEEDED

    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (Status.SUCCEEDED, 1)
    assert (submission.last_error, submission.last_answer) == ("", None)
    assert writes.outcomes == ["succeeded"]
    [response] = writes.successes
    assert bool(response.unreadable) is unreadable, response.unreadable
    [record] = AuditRecord.objects.all()
    assert (record.outcome, record.attempt, record.response_status) == (
        Outcome.OK,
        1,
        submission.last_status,
    )
    if unreadable:
        note = f"accepted (HTTP {record.response_status}); its answer could not be read: "
        assert record.error == note + response.unreadable
    else:
        assert record.error == ""
    assert_never_sent_again(submission)
    stats = sandbox.stats()[endpoint]
    assert (stats["requests"], stats["side_effects"]) == (1, 1)


@pytest.mark.parametrize("endpoint", WRITES)
@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(204, b"", id="204, no body"),
        pytest.param(200, b"{}", id="200, {}"),
        pytest.param(201, b'{"status": 20', id="201, broken JSON"),
        pytest.param(202, b"<html>Accepted</html>", id="202, HTML"),
    ],
)
def test_it_takes_any_2xx_of_a_write_as_done_whatever_its_body(
    wire, writes, endpoint, status, body
):
    wire.script = [(status, {"Content-Type": "application/json"}, body)]
    submission = writes.create(endpoint)

    assert services.make_attempt(submission.pk) == Status.SUCCEEDED

    submission.refresh_from_db()
    assert (submission.last_status, submission.last_error) == (status, "")
    assert writes.outcomes == ["succeeded"]
    assert AuditRecord.objects.get().outcome == Outcome.OK
    assert_never_sent_again(submission)
    assert len(wire.sent) == 1


def test_it_keeps_the_carriers_reason_for_a_4xx(sandbox, writes):
    payload = accounts_api.account_body(dataclasses.replace(NEW_ACCOUNT, phone_number="12"))
    submission = writes.create("account_create", payload)

    assert services.make_attempt(submission.pk) == Status.REJECTED

    submission.refresh_from_db()
    assert (submission.status, submission.attempts, submission.last_status) == (
        Status.REJECTED,
        1,
        422,
    )
    answer = submission.last_answer
    assert answer["status"] == 422
    # The sandbox's own answer: the message, then each breach by field and rule.
    [violation] = json.loads(answer["body"])["violations"]
    assert (violation["field"], violation["rule"]) == ("phoneNumber", "pattern")
    # The reason names the field and the rule, not the message that only lists the fields.
    assert submission.last_error == f"phoneNumber: {violation['message']} (pattern)"
    assert "'12'" in submission.last_error
    # Only the headers that explain an answer are kept.
    assert {name.lower(): value for name, value in answer["headers"].items()} == {
        "content-type": "application/json"
    }
    [record] = AuditRecord.objects.all()
    assert (record.outcome, record.response_status) == (Outcome.REJECTED, 422)
    assert record.response_headers == answer["headers"]
    assert record.response_body == answer["body"]
    assert writes.outcomes == ["rejected"]
    stats = sandbox.stats()["account_create"]
    assert (stats["requests"], stats["side_effects"]) == (1, 0)


@pytest.mark.parametrize("endpoint", WRITES)
def test_it_says_the_carrier_gave_no_reason_for_a_4xx_without_a_body(wire, writes, endpoint):
    wire.script = [(422, {"X-Request-Id": "req-17", "Server": "gateway", "Date": "today"}, b"")]
    submission = writes.create(endpoint)

    assert services.make_attempt(submission.pk) == Status.REJECTED

    submission.refresh_from_db()
    assert submission.last_error == "the carrier refused the request (HTTP 422) and gave no reason"
    assert submission.last_answer == {
        "status": 422,
        "headers": {"X-Request-Id": "req-17"},
        "body": "",
    }
    assert AuditRecord.objects.get().response_headers == {"X-Request-Id": "req-17"}
    assert writes.outcomes == ["rejected"]
    assert len(wire.sent) == 1


def test_it_keeps_a_retried_answer_until_a_success_clears_it(wire, writes, settings):
    settings.SUBMISSION_BACKOFF_CAP_SECONDS = 300
    wire.script = [
        (503, {"Retry-After": "7", "Content-Type": "text/plain"}, b"Service Unavailable\nretry"),
        (200, {"Content-Type": "application/json"}, b'{"requestId": "r-1"}'),
    ]
    submission = writes.create("bulk_create")

    assert services.make_attempt(submission.pk) == Status.RETRYING

    submission.refresh_from_db()
    assert (submission.last_status, submission.last_error) == (503, "HTTP 503: Service Unavailable")
    assert submission.last_answer == {
        "status": 503,
        "headers": {"Retry-After": "7", "Content-Type": "text/plain"},
        "body": "Service Unavailable\nretry",
    }
    assert submission.next_attempt_at >= timezone.now() + timedelta(seconds=6)

    make_due(submission)
    assert services.make_attempt(submission.pk) == Status.SUCCEEDED

    submission.refresh_from_db()
    assert (submission.attempts, submission.last_error, submission.last_answer) == (2, "", None)
    assert submission.result == {"requestId": "r-1"}
    # Sent twice, audited with the same batch key both times.
    assert len(wire.sent) == 2
    assert [record.idempotency_key for record in AuditRecord.objects.order_by("pk")] == [
        submission.idempotency_key
    ] * 2


def test_it_rings_an_overdue_row_at_most_once_a_lease(submission, enqueued, settings):
    """A lagging queue makes every due row look overdue: ringing each again every sweep only
    lengthens the queue (a chaos run reached 12,000 doorbells for 450 rows)."""
    settings.SUBMISSION_LEASE_SECONDS = 60
    past = timezone.now() - timedelta(minutes=5)
    Submission.objects.filter(pk=submission.pk).update(next_attempt_at=past)
    enqueued.clear()

    for _ in range(5):
        services.sweep()
    assert enqueued == [(submission.pk, None)]

    services.sweep(now=timezone.now() + timedelta(seconds=61))
    assert len(enqueued) == 2
