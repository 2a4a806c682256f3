"""End-Customer Lookup against the sandbox carrier over real HTTP."""

import re

import pytest
from django.urls import reverse

from portal.audit.models import Action, AuditRecord, Outcome

URL = reverse("accounts:lookup")
PECAN = {
    "account_name": "pecan",
    "street": "",
    "city": "Houston",
    "state": "TX",
    "zip_code": "77002",
    "country": "US",
}
NOTHING = {**PECAN, "account_name": "Zzyzx Nothing", "city": "Plano", "zip_code": "75075"}


def test_it_shows_matches_from_the_carrier(alice_client, sandbox):
    response = alice_client.get(URL, PECAN)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Pecan" in html
    assert 'aria-live="polite"' in html
    # ATT ONLY stands out with its own warning.
    assert "ATT ONLY:" in html
    assert "Sub-account id" in html
    assert sandbox.stats()["lookup"]["requests"] == 1


def test_it_answers_htmx_with_the_results_partial_only(alice_client, sandbox):
    response = alice_client.get(URL, PECAN, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<form" not in html
    assert "Pecan" in html
    assert 'hx-swap-oob="true"' in html
    assert response.headers["Vary"].count("HX-Request") == 1


def test_it_works_as_a_plain_post_without_javascript(alice_client, sandbox):
    response = alice_client.post(URL, PECAN)

    assert response.status_code == 200
    assert "Pecan" in response.content.decode()


def test_it_says_plainly_when_nothing_matches(alice_client, sandbox):
    response = alice_client.get(URL, NOTHING)

    html = response.content.decode()
    assert "No customer found" in html
    record = AuditRecord.objects.get()
    assert record.outcome == Outcome.NOT_FOUND
    assert record.response_status == 404


def test_it_keeps_input_and_marks_each_bad_field(alice_client, sandbox):
    bad = {**PECAN, "account_name": "pe", "state": "Texass", "zip_code": "7700"}

    response = alice_client.post(URL, bad)

    html = response.content.decode()
    assert "Type at least 3 characters of the name." in html
    assert "Enter a US state, by name or 2-letter code, e.g. Texas or TX." in html
    assert "Use a 5-digit ZIP or ZIP+4" in html
    assert 'value="Texass"' in html
    assert 'value="7700"' in html
    assert html.count('aria-invalid="true"') == 3
    assert sandbox.stats()["lookup"]["requests"] == 0
    assert not AuditRecord.objects.exists()


def test_it_does_not_nag_about_empty_fields_while_typing(alice_client, sandbox):
    response = alice_client.get(
        URL,
        {"account_name": "pec", "city": "", "state": "", "zip_code": ""},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "This field is required" not in html
    assert "Fill in the name" in html


def test_it_normalises_before_asking_the_carrier(alice_client, sandbox):
    alice_client.get(
        URL,
        {**PECAN, "account_name": "  pecan   growers ", "state": "texas", "zip_code": "770021234"},
    )

    sent = sandbox.requests("lookup")[-1]["body"]
    assert sent["accountName"] == "pecan growers"
    assert sent["address"]["state"] == "TX"
    # ZIP+4 as the carrier's answers write it: 9 digits, no dash (the contract's choice).
    assert sent["address"]["zipCode"] == "770021234"


def test_its_requests_follow_the_contract(alice_client, sandbox):
    alice_client.get(URL, {**PECAN, "street": "Main"})

    [request] = sandbox.requests("lookup")
    assert request["path"] == "/api/v1/customerAccountLookup"
    assert request["method"] == "POST"
    headers = request["headers"]
    assert headers["client_id"] == "sandbox-client"
    assert headers["client_secret"] == "[present]"
    assert headers["x-trace-id"]
    assert headers["source"]
    assert request["body"] == {
        "accountName": "pecan",
        "address": {
            "street": "Main",
            "city": "Houston",
            "state": "TX",
            "country": "US",
            "zipCode": "77002",
        },
    }


def test_it_writes_one_audit_record_per_carrier_call(alice_client, alice, sandbox):
    for query in (PECAN, NOTHING, {**PECAN, "account_name": "growers"}):
        alice_client.get(URL, query)

    records = AuditRecord.objects.filter(action=Action.LOOKUP)
    assert records.count() == sandbox.stats()["lookup"]["requests"] == 3
    record = records.get(subject__startswith="pecan")
    assert record.actor == alice
    assert record.api == "accounts"
    assert record.url.endswith("/api/v1/customerAccountLookup")
    assert record.request_headers["client_secret"] == "[redacted]"
    assert record.trace_id and record.trace_id == record.request_headers["x-trace-id"]
    assert record.subject == "pecan|houston|TX|77002"
    assert record.duration_ms >= 0
    assert "accountName" in record.response_body


def test_upstream_down_shows_a_message_not_a_500(alice_client, sandbox, settings):
    from sandbox.testing import free_port

    settings.CARRIER_ACCOUNTS_URL = f"http://127.0.0.1:{free_port()}"

    response = alice_client.get(URL, PECAN)

    assert response.status_code == 200
    assert "be reached right now" in response.content.decode()
    # Reads try once more when the connection itself failed; each try is audited.
    outcomes = list(AuditRecord.objects.values_list("outcome", flat=True))
    assert outcomes == [Outcome.UNREACHABLE, Outcome.UNREACHABLE]


def test_upstream_timeout_shows_a_message(alice_client, sandbox, settings):
    settings.UPSTREAM_LOOKUP_READ_TIMEOUT = 0.5
    sandbox.set_faults({"lookup": {"sequence": ["hang"], "hang_seconds": 3}})

    response = alice_client.get(URL, PECAN, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "taking too long" in response.content.decode()
    assert AuditRecord.objects.get().outcome == Outcome.TIMEOUT


def test_upstream_garbage_is_recorded_and_shown(alice_client, sandbox):
    sandbox.set_faults({"lookup": {"sequence": ["malformed"]}})

    response = alice_client.get(URL, PECAN)

    assert response.status_code == 200
    assert "could not read" in response.content.decode()
    record = AuditRecord.objects.get()
    assert record.outcome == Outcome.MALFORMED
    assert record.response_status == 200
    assert record.response_body  # the raw answer is kept for ops


@pytest.mark.parametrize("fault", ["500", "503", "429"])
def test_upstream_errors_show_a_message(alice_client, sandbox, fault):
    sandbox.set_faults({"lookup": {"sequence": [fault]}})

    response = alice_client.get(URL, PECAN)

    assert response.status_code == 200
    assert "having trouble" in response.content.decode()
    record = AuditRecord.objects.get()
    assert record.outcome == Outcome.TRANSIENT
    assert record.response_status == int(fault)


def test_wrong_credentials_are_reported_not_leaked(alice_client, sandbox, settings):
    settings.CARRIER_ACCOUNTS_CLIENT_SECRET = "not-the-right-secret"

    response = alice_client.get(URL, PECAN)

    html = response.content.decode()
    assert "refused the portal" in html
    assert "not-the-right-secret" not in html
    assert AuditRecord.objects.get().outcome == Outcome.REJECTED


def test_query_count_is_bounded(alice_client, sandbox, django_assert_max_num_queries):
    alice_client.get(URL, PECAN)  # warm the session and caches

    # session, user, roles, and the audit append (lock, chain head, insert)
    with django_assert_max_num_queries(8):
        response = alice_client.get(URL, PECAN)
    assert response.status_code == 200


def test_it_needs_login(client, db):
    response = client.get(URL, PECAN)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_ops_without_a_sales_role_get_403(client, olivia, sandbox):
    client.force_login(olivia)

    assert client.get(URL).status_code == 403
    assert sandbox.stats()["lookup"]["requests"] == 0


def test_it_refuses_other_methods(alice_client):
    assert alice_client.delete(URL).status_code == 405


def _shown_matches(html: str) -> list[str]:
    """The rendered list of match cards (empty when there is none)."""
    return re.findall(r'<ol class="matches">.*?</li>\s*</ol>', html, re.S)


def test_it_reads_each_readable_shape_of_the_answer(alice_client, sandbox):
    """The docs have renamed fields between versions, and gateways add their own: the same
    matches, with the same ids and addresses, whatever the shape."""
    documented = _shown_matches(alice_client.get(URL, PECAN).content.decode())
    assert documented and "Sub-account id" in documented[0]
    for variant in ("renamed", "extra_fields"):
        sandbox.set_faults({"lookup": {"answer": variant}})
        assert _shown_matches(alice_client.get(URL, PECAN).content.decode()) == documented
    assert set(AuditRecord.objects.values_list("outcome", flat=True)) == {Outcome.OK}


@pytest.mark.parametrize("variant", ["empty", "empty_object"])
def test_an_answer_without_matches_in_it_is_shown_as_unreadable(alice_client, sandbox, variant):
    sandbox.set_faults({"lookup": {"answer": variant}})

    response = alice_client.get(URL, PECAN)

    assert response.status_code == 200
    assert "could not read" in response.content.decode()
    assert AuditRecord.objects.get().outcome == Outcome.MALFORMED


def test_a_state_name_is_sent_as_its_code_and_finds_the_match(alice_client, sandbox):
    """The page's example sends "Texas"; the carrier's data says "TX" and matches exactly."""
    html = alice_client.get(URL, {**PECAN, "state": "Texas"}).content.decode()

    assert sandbox.requests("lookup")[-1]["body"]["address"]["state"] == "TX"
    assert "Texas Pecan Growers LLC" in html


def test_a_blank_street_is_left_out_not_sent_empty(alice_client, sandbox):
    alice_client.get(URL, PECAN)

    sent = sandbox.requests("lookup")[-1]
    assert "street" not in sent["body"]["address"]
    assert sent["violations"] == []


def test_a_match_that_changed_at_the_carrier_shows_its_change(alice_client, monkeypatch):
    """Each match's rendered block is cached by all it shows (as-you-type repeats them): a
    match the carrier now answers differently is never shown as it was."""
    import dataclasses

    from accounts import services
    from portal.upstream.accounts import AccountMatch, LookupResult

    fields = {field.name: "" for field in dataclasses.fields(AccountMatch)}
    match = AccountMatch(**{**fields, "account_name": "Pecan Holdings", "account_id": "A-1"})
    answers = iter([match, dataclasses.replace(match, alliance_status="ATT ONLY")])
    monkeypatch.setattr(
        services, "lookup_accounts", lambda *a, **k: LookupResult(matches=[next(answers)])
    )

    first = alice_client.get(URL, PECAN, headers={"HX-Request": "true"}).content.decode()
    again = alice_client.get(URL, PECAN, headers={"HX-Request": "true"}).content.decode()

    assert "Pecan Holdings" in first and "ATT ONLY:" not in first
    assert "Pecan Holdings" in again and "ATT ONLY:" in again
