"""A large bulk file is checked by a worker while its page follows the check live."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import bulk
from accounts.models import BulkImport, BulkRow
from tests.accounts.test_bulk_file import upload_path, write_bulk_file
from tests.conftest import log_in, wait_until

HTMX = {"HX-Request": "true"}


def page(client, bulk_import: BulkImport, **headers):
    return client.get(reverse("accounts:bulk_import", args=[bulk_import.pk]), headers=headers)


def queued_upload(client, path, django_capture_on_commit_callbacks, settings) -> BulkImport:
    """Upload a file past the inline limit, keeping its check from reaching a worker."""
    settings.BULK_CHECK_INLINE_BYTES = 1000
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload_path(client, path)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(callbacks) == 1  # the check, queued on commit
    return BulkImport.objects.get()


def test_the_page_follows_the_check_and_then_shows_the_preview(
    ops_client, tmp_path, var_dir, settings, django_capture_on_commit_callbacks
):
    write_bulk_file(tmp_path / "big.csv", 2_000, 20)
    bulk_import = queued_upload(
        ops_client, tmp_path / "big.csv", django_capture_on_commit_callbacks, settings
    )

    assert bulk_import.state == BulkImport.State.CHECKING
    waiting = page(ops_client, bulk_import).content.decode()
    assert "Checking the file" in waiting and "Waiting for a worker" in waiting
    assert 'hx-trigger="every 1s"' in waiting
    assert "Send " not in waiting and "Download the results file" not in waiting
    results = ops_client.get(reverse("accounts:bulk_results", args=[bulk_import.pk]))
    assert results.status_code == 302  # no results file before the check ends

    bulk.check_in_worker(bulk_import.pk)

    bulk_import.refresh_from_db()
    assert bulk_import.state == BulkImport.State.CHECKED
    assert (bulk_import.row_count, bulk_import.bad_row_count) == (2_000, 20)
    assert bulk_import.lines_checked == 2_001  # the header is line 1
    poll = page(ops_client, bulk_import, **HTMX, **{"HX-Target": "bulk-checking"})
    assert poll["HX-Refresh"] == "true"  # the whole page comes back with the preview
    preview = page(ops_client, bulk_import).content.decode()
    assert f"Send {bulk_import.good_customer_count} customers" in preview


def test_the_poll_shows_how_far_the_check_got(
    ops_client, tmp_path, var_dir, settings, django_capture_on_commit_callbacks
):
    write_bulk_file(tmp_path / "big.csv", 300, 0)
    bulk_import = queued_upload(
        ops_client, tmp_path / "big.csv", django_capture_on_commit_callbacks, settings
    )
    BulkImport.objects.filter(pk=bulk_import.pk).update(lines_checked=250)

    poll = page(ops_client, bulk_import, **HTMX, **{"HX-Target": "bulk-checking"})

    html = poll.content.decode()
    assert poll.status_code == 200 and "<html" not in html
    assert "250 lines read so far." in html


def test_a_problem_found_late_is_shown_and_nothing_is_kept(
    ops_client, tmp_path, var_dir, settings, django_capture_on_commit_callbacks
):
    path = tmp_path / "late.csv"
    write_bulk_file(path, 2_000, 0)
    lines = path.read_bytes().split(b"\n")
    lines[1500] = lines[1500].replace(b",", b",\x00", 1)
    path.write_bytes(b"\n".join(lines))
    bulk_import = queued_upload(ops_client, path, django_capture_on_commit_callbacks, settings)

    bulk.check_in_worker(bulk_import.pk)

    bulk_import.refresh_from_db()
    assert bulk_import.state == BulkImport.State.UNUSABLE
    assert bulk_import.problem == "Line 1501 holds binary data (a NUL character)."
    assert not BulkRow.objects.exists()
    assert not bulk_import.path.exists()
    html = page(ops_client, bulk_import).content.decode()
    assert "This file could not be used: Line 1501 holds binary data" in html
    send = ops_client.post(reverse("accounts:bulk_send", args=[bulk_import.pk]))
    assert send.status_code == 302 and not bulk_import.batches.exists()


def test_wrong_columns_in_a_large_file_are_said_at_once(ops_client, tmp_path, var_dir, settings):
    settings.BULK_CHECK_INLINE_BYTES = 1000
    path = tmp_path / "wrong.csv"
    path.write_text("name,city\n" + "Acme,Plano\n" * 200)

    response = upload_path(ops_client, path)

    assert response.status_code == 400
    assert "The header has columns the format does not have: name, city" in (
        response.content.decode()
    )
    assert not BulkImport.objects.exists()


def test_a_check_whose_worker_died_is_resumed_from_the_start(
    ops_client, tmp_path, var_dir, settings, django_capture_on_commit_callbacks
):
    write_bulk_file(tmp_path / "big.csv", 1_500, 5)
    bulk_import = queued_upload(
        ops_client, tmp_path / "big.csv", django_capture_on_commit_callbacks, settings
    )
    # A worker staged part of the file, then died: its heartbeat stopped eleven minutes ago.
    stalled_at = timezone.now() - timedelta(minutes=11)
    BulkImport.objects.filter(pk=bulk_import.pk).update(
        check_heartbeat=stalled_at, lines_checked=1001
    )
    BulkRow.objects.bulk_create(
        BulkRow(bulk_import=bulk_import, line=n, cells=[], valid=True, problems=[])
        for n in range(2, 1002)
    )

    assert bulk.resume_stalled_checks() == 1
    bulk.check_in_worker(bulk_import.pk)

    bulk_import.refresh_from_db()
    assert bulk_import.state == BulkImport.State.CHECKED
    assert bulk_import.lines.count() == bulk_import.row_count == 1_500  # staged once
    assert bulk_import.bad_row_count == 5
    assert bulk.resume_stalled_checks() == 0


def test_a_live_check_is_not_taken_over(
    ops_client, tmp_path, var_dir, settings, django_capture_on_commit_callbacks
):
    write_bulk_file(tmp_path / "big.csv", 300, 0)
    bulk_import = queued_upload(
        ops_client, tmp_path / "big.csv", django_capture_on_commit_callbacks, settings
    )
    BulkImport.objects.filter(pk=bulk_import.pk).update(check_heartbeat=timezone.now())

    bulk.check_in_worker(bulk_import.pk)  # a second delivery while the first still works

    bulk_import.refresh_from_db()
    assert bulk_import.state == BulkImport.State.CHECKING
    assert not bulk_import.lines.exists()
    assert bulk.resume_stalled_checks() == 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_checks_a_large_upload_end_to_end(ops_client, tmp_path, settings, celery_worker):
    # The worker reads the stored file, so both keep the default VAR_DIR here.
    settings.BULK_CHECK_INLINE_BYTES = 1000
    write_bulk_file(tmp_path / "big.csv", 2_000, 20)

    response = upload_path(ops_client, tmp_path / "big.csv")

    assert response.status_code == 302
    bulk_import = BulkImport.objects.get()
    try:
        wait_until(
            lambda: BulkImport.objects.get(pk=bulk_import.pk).state != BulkImport.State.CHECKING,
            timeout=60,
            message=f"the worker did not check the file:\n{celery_worker.logs()[-3000:]}",
        )
        bulk_import.refresh_from_db()
        assert bulk_import.state == BulkImport.State.CHECKED
        assert (bulk_import.row_count, bulk_import.bad_row_count) == (2_000, 20)
        html = page(ops_client, bulk_import).content.decode()
        assert "Bad rows" in html and "Send " in html
    finally:
        bulk_import.path.unlink(missing_ok=True)


@pytest.mark.django_db(transaction=True)
def test_in_the_browser_the_checking_page_turns_into_the_preview(
    page, live_server, settings, celery_worker, olivia, tmp_path
):
    settings.BULK_CHECK_INLINE_BYTES = 1000
    write_bulk_file(tmp_path / "big.csv", 10_000, 7)  # seconds to check: the page sees it
    log_in(page, live_server, "olivia")
    page.goto(f"{live_server.url}{reverse('accounts:bulk')}")

    page.locator("input[type=file]").set_input_files(tmp_path / "big.csv")
    page.get_by_role("button", name="Upload and check").click()

    page.wait_for_url(re.compile(r"/accounts/bulk/\d+/$"))
    bulk_import = BulkImport.objects.get()
    try:
        assert page.get_by_role("heading", name="Checking the file").is_visible()
        send = page.get_by_role("button", name=re.compile(r"^Send \d+ customers$"))
        send.wait_for(timeout=60_000)
        assert page.locator("#bad-rows").inner_text() == "7"
        assert page.locator("#bulk-checking").count() == 0
    finally:
        bulk_import.path.unlink(missing_ok=True)


def test_a_worker_that_cannot_see_the_upload_says_why(
    ops_client, tmp_path, var_dir, settings, django_capture_on_commit_callbacks
):
    write_bulk_file(tmp_path / "big.csv", 300, 0)
    bulk_import = queued_upload(
        ops_client, tmp_path / "big.csv", django_capture_on_commit_callbacks, settings
    )
    bulk_import.path.unlink()  # a worker on another host, without the web's VAR_DIR

    bulk.check_in_worker(bulk_import.pk)

    bulk_import.refresh_from_db()
    assert bulk_import.state == BulkImport.State.UNUSABLE
    assert "must share VAR_DIR" in page(ops_client, bulk_import).content.decode()


def test_an_error_of_ours_ends_the_check_with_a_message_not_a_loop(
    ops_client, tmp_path, var_dir, settings, django_capture_on_commit_callbacks
):
    write_bulk_file(tmp_path / "big.csv", 300, 0)
    bulk_import = queued_upload(
        ops_client, tmp_path / "big.csv", django_capture_on_commit_callbacks, settings
    )
    bulk_import.path.unlink()
    bulk_import.path.mkdir()  # the worker's read fails with an error no file problem explains

    bulk.check_in_worker(bulk_import.pk)

    bulk_import.refresh_from_db()
    assert bulk_import.state == BulkImport.State.UNUSABLE
    assert bulk_import.problem.startswith("The check stopped on an error of ours (IsADirectory")
    assert bulk.resume_stalled_checks(timezone.now() + timedelta(hours=1)) == 0
