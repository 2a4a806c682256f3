"""Unit tests of the submission mechanism; the carrier is faked at the portal.upstream boundary."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from portal.audit.models import AuditRecord
from portal.submissions import services
from portal.submissions.models import Status, Submission
from portal.upstream import errors

KIND = "test_write"


class FakeCarrier:
    """Answers each send with the next scripted outcome (an exception or a response)."""

    def __init__(self):
        self.script: list = []
        self.sent: list[tuple[str, int]] = []
        self.outcomes: list[str] = []

    def send(self, submission):
        self.sent.append((submission.idempotency_key, submission.attempts))
        outcome = self.script.pop(0) if self.script else {"ok": True}
        if isinstance(outcome, Exception):
            raise outcome
        return SimpleNamespace(status=200, data=outcome, result=outcome, audit=None)

    def handler(self) -> services.Handler:
        return services.Handler(
            send=self.send,
            succeeded=lambda s, r: self.outcomes.append("succeeded"),
            rejected=lambda s, f: self.outcomes.append("rejected"),
            failed=lambda s, f: self.outcomes.append("failed"),
            cancelled=lambda s: self.outcomes.append("cancelled"),
        )


@pytest.fixture
def carrier(settings):
    settings.SUBMISSION_MAX_ATTEMPTS = 3
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
    assert services.process(submission.pk) == Status.SUCCEEDED
    submission.refresh_from_db()

    assert submission.status == Status.SUCCEEDED
    assert submission.attempts == 1 and submission.finished_at is not None
    assert carrier.outcomes == ["succeeded"]
    # A second message for the same row finds nothing to do.
    assert services.process(submission.pk) is None
    assert len(carrier.sent) == 1


def test_a_claimed_row_cannot_be_claimed_twice(submission):
    assert services.claim(submission.pk) is not None
    assert services.claim(submission.pk) is None


def test_a_4xx_is_rejected_without_retry(submission, carrier):
    carrier.script = [errors.PermanentError("bad zip", status=400)]

    assert services.process(submission.pk) == Status.REJECTED

    submission.refresh_from_db()
    assert (submission.status, submission.last_error, submission.last_status) == (
        Status.REJECTED,
        "bad zip",
        400,
    )
    assert carrier.outcomes == ["rejected"]


def test_transient_errors_retry_with_the_same_key_then_fail(
    submission, carrier, enqueued, django_capture_on_commit_callbacks
):
    carrier.script = [errors.TransientError("503", status=503) for _ in range(3)]

    for _ in range(3):
        make_due(submission)
        with django_capture_on_commit_callbacks(execute=True):
            services.process(submission.pk)

    submission.refresh_from_db()
    assert submission.status == Status.FAILED
    assert [key for key, _ in carrier.sent] == ["key-1"] * 3
    assert [attempt for _, attempt in carrier.sent] == [1, 2, 3]
    assert carrier.outcomes == ["failed"]
    # Each retry was enqueued with a delay.
    assert [countdown is not None and countdown > 0 for _, countdown in enqueued[1:]] == [
        True,
        True,
    ]


def test_a_retry_waits_for_its_time(submission, carrier):
    carrier.script = [errors.UpstreamTimeout("slow")]
    assert services.process(submission.pk) == Status.RETRYING

    # Too early: the row is not due yet.
    assert services.process(submission.pk) is None
    submission.refresh_from_db()
    assert submission.status == Status.RETRYING
    assert submission.next_attempt_at > timezone.now()


def test_backoff_grows_and_honours_retry_after(settings):
    settings.SUBMISSION_BACKOFF_BASE_SECONDS = 2
    settings.SUBMISSION_BACKOFF_CAP_SECONDS = 300

    assert 1 <= services.backoff_delay(1) <= 2
    assert 8 <= services.backoff_delay(4) <= 16
    assert services.backoff_delay(20) <= 300
    assert services.backoff_delay(1, retry_after=30) == 30
    assert services.backoff_delay(1, retry_after=10_000) == 300


def test_the_sweeper_reclaims_an_expired_lease(submission, carrier, enqueued):
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
    assert enqueued == [(submission.pk, None)]
    assert services.process(submission.pk) == Status.SUCCEEDED


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
    services.process(submission.pk)  # the new attempt succeeds

    # The first worker comes back with its old attempt's failure: it changes nothing.
    services._after_failure(stale, carrier.handler(), errors.PermanentError("late", status=400))

    submission.refresh_from_db()
    assert submission.status == Status.SUCCEEDED
    assert carrier.outcomes == ["succeeded"]


def test_ops_requeue_keeps_the_key_and_resets_attempts(submission, carrier, enqueued):
    carrier.script = [errors.TransientError("x")] * 3
    for _ in range(3):
        make_due(submission)
        services.process(submission.pk)
    submission.refresh_from_db()
    assert submission.status == Status.FAILED

    assert services.requeue(submission) is True
    assert services.process(submission.pk) == Status.SUCCEEDED
    submission.refresh_from_db()
    assert submission.idempotency_key == "key-1"
    assert submission.attempts == 1


def test_only_an_unsent_submission_can_be_cancelled(submission, carrier):
    assert services.cancel(submission) is True
    submission.refresh_from_db()
    assert submission.status == Status.CANCELLED
    assert carrier.outcomes == ["cancelled"]
    assert services.process(submission.pk) is None
    assert carrier.sent == []

    sent = services.create_submission(KIND, payload={}, idempotency_key="key-2")
    carrier.script = [errors.TransientError("x")]
    services.process(sent.pk)
    assert services.cancel(sent) is False  # it may already have taken effect upstream


def test_a_bug_in_a_handler_retries_instead_of_stranding_the_row(submission, carrier):
    carrier.script = [ZeroDivisionError()]

    assert services.process(submission.pk) == Status.RETRYING


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
    assert "Cancel: 1 of 1 selected" in client.get(url).content.decode()
    entry = LogEntry.objects.get(object_id=str(submission.pk))
    assert entry.user == olivia and "Cancel by ops" in entry.get_change_message()
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
