"""`make contract`: every flow through the portal's own pages, against the strict sandbox.

The sandbox checks each request against portal/upstream/contract/carrier.yaml and counts each
breach; this prints, per API, the requests it received and the violations it found, and exits
non-zero if there was any. The portal runs in this process on a fresh SQLite database (its pages
through Django's test client, its writes made inline as a worker would make them).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.testing import SandboxProcess

APIS = ("lookup", "account_create", "search", "bulk_create", "care_order")
BULK_HEADER = (
    "record_type,sourceCustomerId,sourceParentCustomerId,organizationId,postalCode,country,"
    "customerCreationDate,enrollmentStartDate,enrollmentEndDate,enrollmentOptInStatus,"
    "alertOptInStatus,targetingIndicator,sourceAccountId,sourceCustomerIds,"
    "primarySourceCustomerId,status,type,sourcePortfolioId,accountOpenDate,accountCloseDate,"
    "last4,iin,cardType,networkIdentifier,openDate,closeDate"
)
# Empty optional cells on every record type: each must be left out, or null for close dates.
BULK_LINES = (
    "customer,C-1,,,78753,US" + "," * 20,
    "customer,C-2,C-1,50004,78753,US,2017-01-01T08:00:00Z,2023-01-01T08:00:00Z,"
    "2024-01-01T08:00:00Z,ACTIVE,ALL;PROMO,TARGET" + "," * 14,
    "account" + "," * 12 + "A-1,C-2;C-1,C-2,OPEN,DDA,,2018-05-12T20:30:00Z" + "," * 7,
    "card,C-2" + "," * 11 + "A-1,,,OPEN,,,,,2345,123456,CREDIT,3,2023-01-01T08:00:00Z,",
)
BULK_FILE = "\n".join((BULK_HEADER, *BULK_LINES)) + "\n"


def setup_django(sandbox_url: str, database: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"sqlite:///{database}",
        CELERY_BROKER_FOLDER=str(database.parent / "broker"),
        PORTAL_VAR_DIR=str(database.parent),
        **dict.fromkeys(
            (
                "CARRIER_ACCOUNTS_URL",
                "CARRIER_SEARCH_URL",
                "CARRIER_BULK_URL",
                "CARRIER_ORDERS_URL",
            ),
            sandbox_url,
        ),
    )
    import django

    django.setup()
    from django.core.management import call_command

    from portal.celery import app

    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)  # the table is the output, not a line per call
    app.conf.task_always_eager = True  # the worker's attempt, made where it is enqueued


def client_for(username: str, role: str):
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from portal.models import Profile, Team

    user = User.objects.create_user(username, first_name=username.title(), last_name="Contract")
    user.groups.add(Group.objects.get(name=role))
    Profile.objects.create(user=user, team=Team.objects.get_or_create(name="Central")[0])
    client = Client()
    client.force_login(user)
    return client


def lookups(client) -> None:
    place = {"city": "Houston", "state": "Texas", "country": "US"}
    client.get("/accounts/lookup/", {"account_name": "pecan", "zip_code": "77002", **place})
    client.get("/accounts/lookup/", {"account_name": "pecan", "zip_code": "77002-1234", **place})
    client.get(
        "/accounts/lookup/",
        {"account_name": "Pecan", "street": "Louisiana", "zip_code": "77002", **place},
    )


def searches(client) -> None:
    for service in ("", "FIBER", "WIRELESS", "DSL", "VIDEO"):
        client.get("/accounts/search/", {"service": service, "per_page": 25})
    page = client.get("/accounts/search/", {"service": "WIRELESS", "page": 2}).content.decode()
    individual = page.split("/accounts/search/individual/", 1)[1].split("/", 1)[0]
    client.get(f"/accounts/search/individual/{individual}/", {"service": "WIRELESS", "page": 2})


def create_account(client) -> None:
    place = {"city": "Plano", "state": "tx", "zip_code": "75075-1234", "country": "US"}
    client.get("/accounts/lookup/", {"account_name": "Zzyzx Contract Co", "street": "", **place})
    form = client.get(
        "/accounts/customers/new/", {"account_name": "Zzyzx Contract Co", **place}
    ).content.decode()
    token = form.split('name="transaction_id" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/accounts/customers/new/",
        {
            "name": "Zzyzx Contract Co", "street": "1 Legacy Dr", "street_line2": "Suite 400",
            "city": "Plano", "state": "Texas", "post_code": "75075-1234", "country": "US",
            "phone_number": "(770) 331-6389", "location_name": "Headquarters",
            "duns_site_id": "123456789", "account_source_code": "SRC001",
            "mobility_sub_segment": "MID MARKETS MOBILITY 1", "id_position": "1",
            "channel_ind": "Y", "svid": "SVID123", "svid_name": "Some SVID Name",
            "complex_product_ind": "N", "number_of_employees": "250", "transaction_id": token,
        },
    )  # fmt: skip


def bulk_upload(client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("contract.csv", BULK_FILE.encode(), content_type="text/csv")
    answer = client.post("/accounts/bulk/", {"file": upload})
    client.post(answer["Location"].rstrip("/") + "/send/")


def change_request(index: int, kind: str, **fields: str) -> dict[str, str]:
    prefix = f"cr-{index}"
    values = {"type": kind, "change_request_id": f"CR-{index + 1}-ct", "ctn": "214 555 0101"}
    return {f"{prefix}-{name}": value for name, value in {**values, **fields}.items()}


def full_update(index: int) -> dict[str, str]:
    """An update with every field, dates typed as the form allows (a date, a date and time)."""
    data = change_request(
        index, "update", effective_when="date", effective_on="2026-12-15",
        replace_duplicate_features="on", replace_conflicting_features="on",
        voicemail="pin", voicemail_pin="4321",
        billing_first_name="Alex", billing_last_name="Bell", billing_attention_to="Jay Watson",
        billing_address_line1="123 Main St", billing_address_line2="Suite 400",
        billing_city="Dallas", billing_state="Texas", billing_zip="75201-1234",
        billing_address_indicator="on", billing_phone="214-555-0199",
        subscriber_first_name="Alex", subscriber_last_name="Bell",
        subscriber_address_line1="123 Main St", subscriber_city="Dallas", subscriber_state="TX",
        subscriber_zip="75201", subscriber_phone="2145550198",
        imei="490154203237518", iccid="89014104212345678909", network_block="block",
    )  # fmt: skip
    prefix = f"cr-{index}"
    rows = {
        f"{prefix}-item-TOTAL_FORMS": "2", f"{prefix}-item-INITIAL_FORMS": "0",
        f"{prefix}-label-TOTAL_FORMS": "1", f"{prefix}-label-INITIAL_FORMS": "0",
        f"{prefix}-item-0-sku": "sku12037300017", f"{prefix}-item-0-action": "add",
        f"{prefix}-item-0-effective_date": "2026-12-15",
        f"{prefix}-item-0-expiration_date": "2027-12-15T19:00",
        f"{prefix}-item-1-sku": "sku99", f"{prefix}-item-1-action": "remove",
        f"{prefix}-label-0-name": "User Name", f"{prefix}-label-0-value": "Laura Madison",
    }  # fmt: skip
    return {**data, **rows}


def order_data(*changes: dict[str, str]) -> dict:
    order = {
        "foundation_account_number": "81730304", "account_group_id": "73001012763",
        "po_number": "202405040001", "consent_to_recurring_charges": "on",
        "contact_first_name": "Alex", "contact_last_name": "Bell",
        "contact_phone": "1234567890", "contact_phone_extension": "1885",
        "contact_email": "alexbell@example.com", "action": "submit",
    }  # fmt: skip
    merged: dict = {"cr-TOTAL_FORMS": str(len(changes)), "cr-INITIAL_FORMS": "0", **order}
    for change in changes:
        merged.update(change)
    return merged


def care_orders(client) -> None:
    now = {"effective_when": "immediately"}
    orders = [
        order_data(full_update(0)),
        order_data(change_request(0, "suspend", suspend_reason="Lost", **now)),
        order_data(change_request(0, "resume", resume_reason="Found", **now)),
        order_data(
            change_request(
                0,
                "cancel",
                cancellation_reason="CustomerRequest",
                cancel_service_reason="NoLongerNeeded",
                cancel_effective_when="date",
                cancel_effective_on="2026-12-31",
                effective_when="next_billing_cycle",
            )
        ),
        order_data(full_update(0), change_request(1, "suspend", suspend_reason="Stolen", **now)),
    ]
    for n, data in enumerate(orders):
        client.post("/orders/new/", {**data, "form_token": f"contract-{n}"})


def show_bodies(sandbox: SandboxProcess) -> None:
    for entry in sandbox.requests(limit=1000):
        print(f"--- {entry['endpoint']} -> {entry['status']}")
        print(json.dumps(entry["body"], indent=1))


def report(sandbox: SandboxProcess) -> int:
    stats = sandbox.stats()
    print(f"{'API':<16}{'requests':>10}{'violations':>12}{'refused':>9}")
    broken = 0
    for api in APIS:
        counters = stats[api]
        broken += counters["violations"]
        print(
            f"{api:<16}{counters['requests']:>10}{counters['violations']:>12}{counters['refused']:>9}"
        )
    for entry in sandbox.requests(limit=1000):
        for violation in entry.get("violations") or []:
            print(f"  {entry['endpoint']}: {violation['field']}: {violation['message']}")
    print(f"{broken} violations" if broken else "0 violations: every request met the contract")
    return 1 if broken else 0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="contract-") as folder, SandboxProcess() as sandbox:
        setup_django(sandbox.url, Path(folder) / "portal.sqlite3")
        rep, ops = client_for("casey", "sales_rep"), client_for("otto", "ops")
        for flow in (lookups, searches, create_account, care_orders):
            flow(rep)
        bulk_upload(ops)
        if "--bodies" in sys.argv:
            show_bodies(sandbox)
        return report(sandbox)


if __name__ == "__main__":
    sys.exit(main())
