"""Unit tests of defensive parsing of the carrier's answers, and of its reasons for a refusal."""

import json

import pytest
import requests

from portal.audit.models import AuditRecord, Outcome
from portal.upstream import errors, http
from portal.upstream.accounts import (
    LookupQuery,
    lookup_accounts,
    parse_created_organization,
    parse_lookup_matches,
)
from portal.upstream.http import parse_retry_after
from portal.upstream.refusals import MAX_REASON, explaining_headers, no_reason, reason_from
from tests.portal.test_submissions import ScriptedWire

CONTRACT_MATCH = {
    "accountAddress": {
        "city": "TEST",
        "country": "US",
        "state": "TX",
        "street": "1234 W TEST PKWY",
        "zipCode": "123456789",
    },
    "accountName": "Test Acct",
    "accountId": "0123456789",
    "acid": "12345",
    "salesSegment": None,
    "subAccountId": "TEST1",
    "contractStatus": "Active (Remote)",
    "parentPartnerAccId": "123456",
    "partnerId": "12AB34",
    "loaStatus": "Y",
    "allianceStatus": "ATT ONLY",
    "accountStatus": None,
    "exception": "NA",
}


def test_it_reads_the_contract_example():
    [match] = parse_lookup_matches([CONTRACT_MATCH])

    assert match.account_name == "Test Acct"
    assert match.sub_account_id == "TEST1"
    assert match.street == "1234 W TEST PKWY"
    assert match.zip_code == "123456789"
    assert match.account_status == ""
    assert match.is_att_only and match.has_loa


def test_it_reads_older_field_names_and_wrappers():
    older = {"name": "Old Acct", "id": "9", "address": {"street1": "1 Elm", "zip": "75075"}}

    [match] = parse_lookup_matches({"accounts": [older]})

    assert (match.account_name, match.account_id, match.street, match.zip_code) == (
        "Old Acct",
        "9",
        "1 Elm",
        "75075",
    )


def test_no_customer_found_in_a_200_means_no_matches():
    assert parse_lookup_matches({"message": "No customer found"}) == []
    assert parse_lookup_matches([]) == []


@pytest.mark.parametrize("garbage", [{"unexpected": True}, "text", 42, [1, 2], None])
def test_unreadable_shapes_are_malformed(garbage):
    with pytest.raises(errors.MalformedResponse):
        parse_lookup_matches(garbage)


def test_it_reads_a_created_organization():
    data = {
        "status": 200,
        "responseData": [{"userFriendlyCoID": "CO-1", "id": "001", "status": "ACTIVE"}],
    }

    created = parse_created_organization(data)

    assert (created.user_friendly_id, created.id, created.status) == ("CO-1", "001", "ACTIVE")
    with pytest.raises(errors.MalformedResponse):
        parse_created_organization({"status": 200, "responseData": []})


def test_retry_after_reads_seconds_and_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize("body", [b"", b"  ", b'{"accounts": [{"accountName": "Te', b"<html>OK"])
def test_a_read_whose_2xx_cannot_be_read_is_malformed_and_asked_once(db, monkeypatch, body):
    wire = ScriptedWire()
    wire.script = [(200, {"Content-Type": "application/json"}, body)]
    session = requests.Session()
    session.mount("http://", wire)
    session.mount("https://", wire)
    monkeypatch.setattr(http, "session_for", lambda api: session)
    query = LookupQuery("Texas Pecan", "", "Houston", "TX", "77002", "US")

    with pytest.raises(errors.MalformedResponse) as raised:
        lookup_accounts(query, actor=None)

    assert raised.value.transient is False and raised.value.status == 200
    assert len(wire.sent) == 1
    record = AuditRecord.objects.get()
    assert (record.outcome, record.response_status) == (Outcome.MALFORMED, 200)


# -- The carrier's reason for a refusal (portal/upstream/refusals.py) ---------------------------

SANDBOX_REFUSAL = {
    "status": 422,
    "message": "The request breaks the contract: phoneNumber, poNumber",
    "violations": [
        {"field": "phoneNumber", "rule": "pattern", "message": "'12' does not match '^[0-9]{10}$'"},
        {"field": "poNumber", "rule": "type", "message": "1 is not of type 'string'"},
    ],
}


def test_a_sandbox_refusal_names_each_field_and_rule():
    # The rule is added unless the message already says it.
    assert reason_from(422, json.dumps(SANDBOX_REFUSAL)) == (
        "phoneNumber: '12' does not match '^[0-9]{10}$' (pattern); "
        "poNumber: 1 is not of type 'string'"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param({"status": 400, "message": "Bad zip"}, "Bad zip", id="message"),
        pytest.param({"error_description": "  bad secret "}, "bad secret", id="error_description"),
        pytest.param({"errorMessage": "Account closed"}, "Account closed", id="errorMessage"),
        pytest.param({"detail": "Not allowed"}, "Not allowed", id="detail"),
        pytest.param({"description": "Nope"}, "Nope", id="description"),
        pytest.param({"error": "invalid_request"}, "invalid_request", id="error as text"),
        pytest.param(
            {"error": "invalid_client", "error_description": "Unknown client"},
            "Unknown client",
            id="the description before the code",
        ),
        pytest.param({"error": {"message": "nested"}}, "nested", id="nested error"),
        pytest.param({"message": "  ", "detail": "the second key"}, "the second key", id="blank"),
    ],
)
def test_it_reads_a_message_under_its_usual_keys(body, reason):
    assert reason_from(400, json.dumps(body)) == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            {"errors": [{"path": "zip", "code": "pattern", "message": "must be 5 digits"}]},
            "zip: must be 5 digits (pattern)",
            id="errors: path and code",
        ),
        pytest.param(
            {"fieldErrors": [{"name": "state", "reason": "unknown"}]},
            "state: unknown",
            id="fieldErrors: a rule without a message",
        ),
        pytest.param(
            {"details": [{"parameter": "ctn", "message": "required field", "type": "required"}]},
            "ctn: required field",
            id="details: the rule already in the message",
        ),
        pytest.param({"issues": [{"pointer": "/name"}]}, "/name", id="issues: a field alone"),
        pytest.param(
            [{"field": "city", "message": "too long"}, "a plain sentence", 7, None],
            "city: too long; a plain sentence",
            id="a bare list",
        ),
        pytest.param(
            {"message": "Validation failed", "errors": [{"field": "name", "message": "empty"}]},
            "name: empty",
            id="the list before the message",
        ),
        pytest.param(
            {"errors": [], "message": "Validation failed"},
            "Validation failed",
            id="an empty list, then the message",
        ),
    ],
)
def test_it_reads_lists_of_field_errors(body, reason):
    assert reason_from(422, json.dumps(body)) == reason


def test_it_reads_at_most_twenty_field_errors():
    body = {"violations": [{"field": f"f{n}", "rule": "required"} for n in range(30)]}

    reason = reason_from(422, json.dumps(body))

    assert reason.split("; ") == [f"f{n}: required" for n in range(20)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Service Unavailable", "Service Unavailable"),
        ("  Bad Gateway\n<html>the proxy's page</html>\n", "Bad Gateway"),
        ("<html><body>Forbidden</body></html>", "<html><body>Forbidden</body></html>"),
    ],
)
def test_plain_text_gives_its_first_line(text, reason):
    assert reason_from(502, text) == reason


@pytest.mark.parametrize(
    "text",
    ["", "   \n ", "{}", '{"status": 422}', "[]", "null", "42", '{"errors": [5, null]}'],
)
def test_no_reason_says_so_with_the_status(text):
    assert reason_from(422, text) == no_reason(422)
    assert no_reason(422) == "the carrier refused the request (HTTP 422) and gave no reason"


def test_a_reason_never_holds_a_full_number_or_a_secret(settings):
    settings.CARRIER_ACCOUNTS_CLIENT_SECRET = "planted-secret-4711"
    body = {
        "violations": [
            {"field": "ctn", "rule": "pattern", "message": "'46955501771' does not match"},
            {"field": "client_secret", "message": "planted-secret-4711 is wrong"},
        ]
    }

    reason = reason_from(422, json.dumps(body))

    assert reason == (
        "ctn: '*******1771' does not match (pattern); client_secret: [redacted] is wrong"
    )
    plain = reason_from(400, "number 4695550177 refused for planted-secret-4711")
    assert plain == "number ******0177 refused for [redacted]"


def test_a_reason_is_bounded():
    assert len(reason_from(400, json.dumps({"message": "x" * 5000}))) <= MAX_REASON
    many = {"errors": [{"field": "f" * 200, "message": "m" * 400}] * 20}
    assert len(reason_from(422, json.dumps(many))) == MAX_REASON
    assert len(reason_from(400, "y" * 5000)) <= MAX_REASON


def test_only_the_headers_that_explain_an_answer_are_kept():
    headers = requests.structures.CaseInsensitiveDict(
        {
            "Retry-After": "30",
            "WWW-Authenticate": 'Bearer error="invalid_token"',
            "Content-Type": "application/json",
            "Warning": '199 - "deprecated"',
            "X-Request-Id": "r" * 400,
            "Server": "gateway",
            "Set-Cookie": "session=abc",
            "Date": "today",
        }
    )

    kept = explaining_headers(headers)

    assert kept == {
        "Retry-After": "30",
        "WWW-Authenticate": 'Bearer error="invalid_token"',
        "Content-Type": "application/json",
        "Warning": '199 - "deprecated"',
        "X-Request-Id": "r" * 300,
    }
    assert explaining_headers(None) == {}
