import pytest

from accounts.services import run_lookup
from portal.upstream.accounts import LookupQuery

PECAN_HOUSTON = LookupQuery(
    account_name="pecan", street="", city="Houston", state="TX", zip_code="77002", country="US"
)


@pytest.fixture
def pecan_seen(sandbox, alice, django_capture_on_commit_callbacks):
    """Alice looked up "pecan" in Houston: the sandbox's Pecan accounts are in the directory."""
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run_lookup(PECAN_HOUSTON, user=alice)
    assert outcome.problem is None and outcome.matches
    return outcome.matches
