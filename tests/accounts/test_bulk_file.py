"""Bulk import, upload and check: the file format, every row's problems, files that are no CSV."""

import csv
import importlib.util
import io
import json
import os
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import bulk
from accounts.models import BulkImport, BulkRow
from portal.submissions.models import Submission

ROOT = Path(__file__).resolve().parents[2]
BULK = reverse("accounts:bulk")
CONTRACT_EXAMPLE_CUSTOMER = {
    "sourceCustomerId": "afa2r21-25f9-4501-b9db-e78afa73c0e3",
    "sourceParentCustomerId": "2e052a88-6ae1-4501-b9db-e78afa73c0e3",
    "organizationId": "50004",
    "postalCode": "78753",
    "country": "US",
    "customerCreationDate": "2017-01-01T08:00:00Z",
    "enrollmentStartDate": "2023-01-01T08:00:00Z",
    "enrollmentEndDate": "2023-01-01T08:00:00Z",
    "enrollmentOptInStatus": "ACTIVE",
    "alertOptInStatus": ["ALL"],
    "targetingIndicator": "TARGET",
    "accounts": [
        {
            "sourceAccountId": "42c57311-25f9-4501-b9db-e78afa73c0e3",
            "sourceCustomerIds": [
                "afa2r21-25f9-4501-b9db-e78afa73c0e3",
                "2e052a88-6ae1-4b78-8d96-f3a037402567",
            ],
            "primarySourceCustomerId": "afa2r21-25f9-4501-b9db-e78afa73c0e3",
            "status": "OPEN",
            "type": "DDA",
            "sourcePortfolioId": "76afcd28-b494-4b29-b7f2-3eb614a92f97",
            "accountOpenDate": "2018-05-12T20:30:00Z",
            "accountCloseDate": None,
            "cards": [
                {
                    "sourceAccountId": "42c57311-25f9-4501-b9db-e78afa73c0e3",
                    "sourceCustomerId": "afa2r21-25f9-4501-b9db-e78afa73c0e3",
                    "last4": "2345",
                    "iin": "123456",
                    "cardType": "CREDIT",
                    "status": "OPEN",
                    "networkIdentifier": "3",
                    "openDate": "2023-01-01T08:00:00Z",
                    "closeDate": None,
                }
            ],
        }
    ],
}


def _load_generator():
    """bin/make-bulk-file is a script (no .py): load it as a module for its generator."""
    path = ROOT / "bin" / "make-bulk-file"
    loader = SourceFileLoader("make_bulk_file", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


make_bulk_file = _load_generator()
write_bulk_file = make_bulk_file.write_bulk_file


def csv_text(*rows: dict, columns=bulk.COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def customer(ident: str, **fields) -> dict:
    return {"record_type": "customer", "sourceCustomerId": ident, "country": "US", **fields}


def account(ident: str, *holders: str, **fields) -> dict:
    return {
        "record_type": "account",
        "sourceAccountId": ident,
        "sourceCustomerIds": ";".join(holders),
        "primarySourceCustomerId": holders[0],
        "status": "OPEN",
        **fields,
    }


def card(account_id: str, holder: str, **fields) -> dict:
    return {
        "record_type": "card",
        "sourceAccountId": account_id,
        "sourceCustomerId": holder,
        "last4": "1234",
        "iin": "412345",
        "cardType": "DEBIT",
        **fields,
    }


def upload(client, content: bytes | str, name: str = "customers.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(BULK, {"file": SimpleUploadedFile(name, data, "text/csv")})


def upload_path(client, path: Path):
    with open(path, "rb") as stream:
        return client.post(BULK, {"file": stream})


def results(client, bulk_import: BulkImport) -> list[list[str]]:
    response = client.get(reverse("accounts:bulk_results", args=[bulk_import.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# Every test stores its uploads in a var folder of its own.
pytestmark = pytest.mark.usefixtures("var_dir")


def problems_by_line(bulk_import: BulkImport) -> dict[int, list[list[str]]]:
    return dict(bulk_import.lines.filter(valid=False).values_list("line", "problems"))


# -- The format's files -------------------------------------------------------------------------


def test_the_template_is_the_header_and_nothing_else():
    template = (ROOT / "static" / "bulk" / "customers-template.csv").read_text()
    assert template.splitlines() == [",".join(bulk.COLUMNS)]
    assert make_bulk_file.COLUMNS == bulk.COLUMNS


def test_the_example_file_becomes_the_contracts_example_body(ops_client):
    example = (ROOT / "static" / "bulk" / "customers-example.csv").read_bytes()

    response = upload(ops_client, example, "customers-example.csv")

    bulk_import = BulkImport.objects.get()
    assert response.status_code == 302
    assert bulk_import.bad_row_count == 0
    assert (bulk_import.customer_count, bulk_import.account_count) == (2, 1)
    columns = bulk.header_columns(bulk_import.header)
    rows = list(bulk_import.lines.order_by("line"))
    body = bulk.build_body(columns, rows[:2], [rows[2]], [rows[3]])
    assert body["customers"][0] == CONTRACT_EXAMPLE_CUSTOMER
    # A customer without accounts has none listed: an absent value is left out.
    assert "accounts" not in json.loads(json.dumps(body))["customers"][1]


def test_the_upload_page_links_the_template_and_the_example(ops_client):
    html = ops_client.get(BULK).content.decode()

    assert "/static/bulk/customers-template.csv" in html
    assert "/static/bulk/customers-example.csv" in html
    assert 'enctype="multipart/form-data"' in html


def test_the_generator_is_deterministic_and_places_exactly_the_bad_rows(tmp_path):
    first = write_bulk_file(tmp_path / "a.csv", 500, 12)
    second = write_bulk_file(tmp_path / "b.csv", 500, 12)

    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert first == second
    assert len(first.bad_lines) == 12
    assert len((tmp_path / "a.csv").read_text().splitlines()) == 501


# -- Checking rows ------------------------------------------------------------------------------


def test_each_bad_row_is_reported_by_line_column_and_reason(ops_client):
    content = csv_text(
        customer("C1", customerCreationDate="2017-01-01T08:00:00Z"),  # line 2: good
        customer("C2", country="USA"),  # 3
        customer("C3", customerCreationDate="2017-13-01T08:00:00Z"),  # 4
        customer("C4", enrollmentOptInStatus="MAYBE"),  # 5
        account("A1", "C1", status="PENDING"),  # 6
        account("A2", "C1", type="DDA"),  # 7: good
        card("A2", "C1", last4="12a4"),  # 8
        card("A2", "C1", iin="12345"),  # 9
        card("A2", "C1", cardType="PREPAID"),  # 10
        card("A2", "C1", openDate="2023-01-01"),  # 11
        {"record_type": "contact", "sourceCustomerId": "C9"},  # 12
        customer("C5", last4="9999"),  # 13: a card column on a customer row
        card("A2", "C1"),  # 14: good
    )

    response = upload(ops_client, content)

    bulk_import = BulkImport.objects.get()
    assert response.status_code == 302
    assert problems_by_line(bulk_import) == {
        3: [["country", "'USA' is not an ISO 3166 alpha-2 country code like US"]],
        4: [["customerCreationDate", "'2017-13-01T08:00:00Z' is not a real date and time"]],
        5: [["enrollmentOptInStatus", "'MAYBE' is not one of ACTIVE, INACTIVE"]],
        6: [["status", "'PENDING' is not one of OPEN, CLOSED"]],
        8: [["last4", "'12a4' is not exactly 4 digits"]],
        9: [["iin", "'12345' is not exactly 6 digits"]],
        10: [["cardType", "'PREPAID' is not one of CREDIT, DEBIT"]],
        11: [
            [
                "openDate",
                "'2023-01-01' is not an ISO 8601 date-time like 2017-01-01T08:00:00Z",
            ]
        ],
        12: [["record_type", "'contact' is not customer, account or card"]],
        13: [["last4", "is not used by customer rows: leave it empty"]],
    }
    assert (bulk_import.row_count, bulk_import.bad_row_count) == (13, 10)
    assert bulk_import.good_customer_count == 1
    page = ops_client.get(response.url).content.decode()
    assert "&#x27;USA&#x27; is not an ISO 3166 alpha-2 country code like US" in page
    assert "Send 1 customer</button>" in page


def test_references_must_be_in_the_file_and_a_bad_row_takes_its_dependents_down(ops_client):
    content = csv_text(
        customer("C1"),  # 2
        customer("C2", country="XX"),  # 3: bad
        account("A1", "C1", "C2"),  # 4: its second customer is bad
        card("A1", "C1"),  # 5: its account is bad
        account("A2", "C1", "C404"),  # 6: a customer not in the file
        account("A3", "C1"),  # 7: good
        card("A3", "C1"),  # 8: good
        card("A404", "C1"),  # 9: an account not in the file
        card("A3", "C2"),  # 10: not a customer of the account
        customer("C1", postalCode="78753"),  # 11: repeats line 2
        account("A3", "C1"),  # 12: repeats line 7
        account("A4", "C1", primarySourceCustomerId="C7"),  # 13
    )

    upload(ops_client, content)

    bulk_import = BulkImport.objects.get()
    assert problems_by_line(bulk_import) == {
        3: [["country", "'XX' is not an ISO 3166 alpha-2 country code like US"]],
        4: [["sourceCustomerIds", "customer C2 on line 3 is bad"]],
        5: [["sourceAccountId", "account A1 on line 4 is bad"]],
        6: [["sourceCustomerIds", "customer C404 is not in this file"]],
        9: [["sourceAccountId", "account A404 is not in this file"]],
        10: [["sourceCustomerId", "C2 is not a customer of account A3"]],
        11: [["sourceCustomerId", "repeats line 2"]],
        12: [["sourceAccountId", "repeats line 7"]],
        13: [["primarySourceCustomerId", "is not one of sourceCustomerIds"]],
    }
    assert bulk_import.good_customer_count == 1
    assert bulk_import.good_row_count == 3


def test_lines_may_come_in_any_order_and_cells_are_normalised(ops_client):
    content = csv_text(
        card("A1", "C1", cardType="credit"),
        account("A1", "C1", status="open"),
        customer("C1", country="us", alertOptInStatus="email; sms", enrollmentOptInStatus="active"),
    )

    upload(ops_client, content)

    bulk_import = BulkImport.objects.get()
    assert bulk_import.bad_row_count == 0
    ops_client.post(reverse("accounts:bulk_send", args=[bulk_import.pk]))
    body = Submission.objects.get().payload["customers"][0]
    assert body["country"] == "US"
    assert body["alertOptInStatus"] == ["EMAIL", "SMS"]
    assert body["accounts"][0]["status"] == "OPEN"
    assert body["accounts"][0]["cards"][0]["cardType"] == "CREDIT"


def test_the_header_may_be_in_any_order_and_without_optional_columns(ops_client):
    columns = ("sourceCustomerId", "country", "record_type")
    content = csv_text({"record_type": "customer", "sourceCustomerId": "C1"}, columns=columns)

    response = upload(ops_client, "\ufeff" + content)

    assert response.status_code == 302
    assert BulkImport.objects.get().good_customer_count == 1


def test_an_empty_line_and_a_short_line_are_bad_rows_of_their_own(ops_client):
    content = csv_text(customer("C1")) + "\ncustomer,C2,,\n"

    upload(ops_client, content)

    bulk_import = BulkImport.objects.get()
    assert problems_by_line(bulk_import) == {
        3: [["(row)", "is empty"]],
        4: [["(row)", "has 4 cells where the header has 26"]],
    }


def test_nothing_is_sent_before_the_person_confirms(ops_client, sandbox):
    response = upload(ops_client, csv_text(customer("C1"), customer("C2")))

    page = ops_client.get(response.url).content.decode()
    assert "Send 2 customers" in page
    assert "Nothing has been sent yet" in page
    assert not Submission.objects.exists()
    assert sandbox.stats()["bulk_create"]["requests"] == 0


def test_the_preview_lists_at_most_1000_problems_and_counts_them_all(ops_client):
    rows = [customer(f"C{n}", country="ZZ") for n in range(1200)]

    response = upload(ops_client, csv_text(*rows))

    page = ops_client.get(response.url).content.decode()
    assert page.count("is not an ISO 3166 alpha-2") == 1000
    assert "1200 bad rows" in page
    assert "No customer in this file can be sent" in page


def test_the_results_file_before_sending_gives_every_line_its_outcome(ops_client):
    upload(ops_client, csv_text(customer("C1"), customer("C2", country="XX")))
    bulk_import = BulkImport.objects.get()

    rows = results(ops_client, bulk_import)

    assert rows[0] == [*bulk.RESULT_COLUMNS, *bulk.COLUMNS]
    assert [row[:3] for row in rows[1:]] == [["2", "waiting", ""], ["3", "invalid", ""]]
    assert rows[2][4] == "country: 'XX' is not an ISO 3166 alpha-2 country code like US"
    assert rows[2][5:7] == ["customer", "C2"]


# -- Files that cannot be used ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (b"   \n\n", "blank.csv", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "logo.png", "This file is a PNG image"),
        (b"PK\x03\x04" + b"\x00" * 64, "customers.xlsx", "an Excel workbook"),
        (bytes(range(256)) * 8, "noise.csv", "This is not a text file"),
        ("record_type,sourceCustomerId\n".encode("utf-16"), "u16.csv", "saved as UTF-16"),
        ("record_type\ncustomer,Zoë\n".encode("latin-1"), "latin.csv", "not UTF-8 text"),
        (",".join(bulk.COLUMNS).encode() + b"\n", "header-only.csv", "a header but no rows"),
        (b"name,email\nAcme,a@example.com\n", "people.csv", "columns the format does not have"),
        (b"sourceCustomerId,country\nC1,US\n", "no-type.csv", "no record_type column"),
        (b"record_type,country,Country\ncustomer,US,US\n", "twice.csv", "columns given twice"),
    ],
)
def test_a_file_that_is_no_usable_csv_gets_a_clear_message(ops_client, content, name, message):
    response = upload(ops_client, content, name)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BulkImport.objects.exists()
    assert not BulkRow.objects.exists()


def test_text_that_turns_to_binary_halfway_is_refused_with_its_line(ops_client):
    good = csv_text(*[customer(f"C{n}") for n in range(400)]).encode()

    response = upload(ops_client, good + b"\xff\xfe\x00garbage\n")

    assert response.status_code == 400
    assert "Around line" in response.content.decode()
    assert "not UTF-8 text" in response.content.decode()
    assert not BulkImport.objects.exists()
    assert not BulkRow.objects.exists()


def test_a_nul_character_after_the_first_bytes_is_refused_with_its_line(ops_client):
    good = csv_text(*[customer(f"C{n}") for n in range(400)])

    response = upload(ops_client, good + "customer,C\x00X\n")

    assert response.status_code == 400
    assert "Line 402 holds binary data" in response.content.decode()
    assert not BulkImport.objects.exists()


def test_a_giant_line_is_refused_without_reading_it_whole(ops_client, settings):
    settings.BULK_CHECK_INLINE_BYTES = 4 * 1024 * 1024  # checked here, not by a worker
    good = csv_text(customer("C1"))

    response = upload(ops_client, good + "customer," + "x" * 3_000_000 + "\n")

    assert response.status_code == 400
    assert "Line 3 is longer than 100,000 characters" in response.content.decode()


def test_a_file_over_the_limit_is_refused_with_the_limit(ops_client, settings):
    settings.BULK_IMPORT_MAX_BYTES = 1024 * 1024

    response = upload(ops_client, csv_text(customer("C1")) + "x" * 1024 * 1024)

    assert response.status_code == 400
    assert "the limit is 1.0 MB" in response.content.decode()
    assert not BulkImport.objects.exists()


def test_50_megabytes_of_noise_is_refused_quickly_and_stores_nothing(ops_client, tmp_path, var_dir):
    noise = tmp_path / "noise.csv"
    with open(noise, "wb") as stream:
        for _ in range(50):
            stream.write(os.urandom(1024 * 1024))

    response = upload_path(ops_client, noise)

    assert response.status_code == 400
    assert "save it as “CSV UTF-8”" in response.content.decode()
    assert not BulkImport.objects.exists()
    assert not any((var_dir / "imports").glob("*"))


def test_no_file_at_all_is_a_form_error(ops_client):
    response = ops_client.post(BULK, {})

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()


def test_the_upload_is_stored_under_var_imports(ops_client, var_dir):
    upload(ops_client, csv_text(customer("C1")))

    bulk_import = BulkImport.objects.get()
    assert bulk_import.path.parent == var_dir / "imports"
    assert bulk_import.path.read_text().startswith("record_type,")
    assert bulk_import.original_name == "customers.csv"


def test_wrong_methods_are_refused(ops_client):
    upload(ops_client, csv_text(customer("C1")))
    pk = BulkImport.objects.get().pk

    assert ops_client.get(reverse("accounts:bulk_send", args=[pk])).status_code == 405
    assert ops_client.get(reverse("accounts:bulk_retry", args=[pk])).status_code == 405
    assert ops_client.post(reverse("accounts:bulk_results", args=[pk])).status_code == 405
