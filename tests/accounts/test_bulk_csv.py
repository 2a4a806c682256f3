"""Bulk files as CSV: formulas defused in the results file, a record's size bounded on reading."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts import bulk
from accounts.bulk import results as bulk_results
from accounts.models import BulkImport
from portal.csv_export import csv_text, neutralise, restore
from tests.accounts.test_bulk_file import customer, results, upload

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\ry"]


def bulk_csv(*rows: dict) -> str:
    """A customer file as a spreadsheet writes it: \r\n line ends, so a \r in a cell is quoted."""
    out = io.StringIO()
    writer = csv.DictWriter(out, bulk.COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# Every test stores its uploads in a var folder of its own.
pytestmark = pytest.mark.usefixtures("var_dir")


def test_the_results_file_defuses_every_cell_a_spreadsheet_would_run(ops_client):
    rows = [customer(f"C{n}", organizationId=value) for n, value in enumerate(FORMULAS)]
    rows.append(customer("=BAD", country="=1+1"))  # a bad line's cells and its detail too
    upload(ops_client, bulk_csv(*rows))
    bulk_import = BulkImport.objects.get()

    lines = results(ops_client, bulk_import)

    organization = lines[0].index("organizationId")
    assert [line[organization] for line in lines[1:7]] == ["'" + value for value in FORMULAS]
    bad = lines[7]
    assert bad[1] == "invalid"
    assert bad[lines[0].index("sourceCustomerId")] == "'=BAD"
    assert bad[lines[0].index("country")] == "'=1+1"
    for line in lines[1:]:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_a_results_file_uploaded_again_reads_back_exactly(ops_client):
    rows = [customer(f"C{n}", organizationId=value) for n, value in enumerate(FORMULAS)]
    # A spreadsheet's text prefix: read without it, as our own neutralised cells are.
    rows.append(customer("C9", organizationId="'=typed as text"))
    upload(ops_client, bulk_csv(*rows))
    first = BulkImport.objects.get()
    body = io.StringIO()
    csv.writer(body).writerows(results(ops_client, first))

    upload(ops_client, body.getvalue(), name="customers-results.csv")

    again = BulkImport.objects.exclude(pk=first.pk).get()
    column = first.header.index("organizationId")
    sent = [row.cells[column] for row in first.lines.order_by("line")]
    read_back = [row.cells[again.header.index("organizationId")] for row in again.lines.all()]
    assert sent == [*FORMULAS, "=typed as text"]
    assert read_back == sent
    assert again.good_customer_count == first.good_customer_count == 7


@given(st.text())
def test_neutralised_text_never_starts_a_formula_and_restores_to_itself(text):
    written = neutralise(text)

    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore(written) == text


def test_the_csv_stream_comes_in_pieces_of_bounded_size():
    wide = [["x" * 10_000] * 10 for _ in range(50)]

    pieces = list(csv_text(wide))

    assert max(len(piece) for piece in pieces) < 200_000
    assert "".join(pieces).count("\n") == 50


def test_a_record_over_the_limit_across_many_lines_is_refused_with_its_line(ops_client):
    good = bulk_csv(customer("C1"))
    open_quote = 'customer,C2,"' + "a quote never closed\n" * 6_000

    response = upload(ops_client, good + open_quote)

    html = response.content.decode()
    assert response.status_code == 400
    assert "The record that starts on line 3 runs over 4,762 lines" in html
    assert "a quote (&quot;) opened there is probably never closed" in html
    assert not BulkImport.objects.exists()


def test_a_long_record_under_the_limit_is_one_bad_line_and_the_check_goes_on(ops_client):
    long = customer("C2", organizationId="x\n" * 40_000)  # 80,000 characters over 40,001 lines

    upload(ops_client, bulk_csv(customer("C1"), long, customer("C3")))

    bulk_import = BulkImport.objects.get()
    assert bulk_import.state == BulkImport.State.CHECKED
    assert bulk_import.good_customer_count == 2
    assert bulk.listed_problems(bulk_import) == [
        (3, "organizationId", "is longer than 100 characters")
    ]
    assert [line for line, _ in bulk_import.lines.values_list("line", "valid")] == [2, 3, 40_004]


def test_an_outcome_column_given_twice_is_refused_so_the_header_stays_narrow(ops_client):
    header = ",".join(["record_type", "sourceCustomerId", *["detail"] * 5000])

    response = upload(ops_client, header + "\ncustomer,C1\n")

    html = response.content.decode()
    assert response.status_code == 400
    assert "columns given twice: detail" in html
    assert html.count("detail") < 20


def test_the_results_are_read_in_groups_under_a_size_and_in_file_order(
    ops_client, monkeypatch, django_assert_max_num_queries
):
    upload(ops_client, bulk_csv(*[customer(f"C{n}", organizationId="o" * 90) for n in range(40)]))
    bulk_import = BulkImport.objects.get()
    monkeypatch.setattr(bulk_results, "CELLS_PER_FETCH", 2_000)
    monkeypatch.setattr(bulk_results, "PAGE_ROWS", 15)

    with django_assert_max_num_queries(40):
        lines = list(bulk_results.lines_in_file_order(bulk_import.lines.all()))

    assert [line for line, *_ in lines] == list(range(2, 42))
    assert all(
        cells[bulk_import.header.index("organizationId")] == "o" * 90 for _, cells, *_ in lines
    )
    assert len(list(bulk.results_rows(bulk_import))) == 41
