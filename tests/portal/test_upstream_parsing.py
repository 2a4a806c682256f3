"""Unit tests of defensive parsing of the carrier's answers."""

import pytest

from portal.upstream import errors
from portal.upstream.accounts import parse_created_organization, parse_lookup_matches
from portal.upstream.http import parse_retry_after

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
