"""The solution provider's records: lines and a price book from CSV, bad rows by line."""

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.bulk.reading import FileProblem
from directory import lines, records
from directory.models import DirectoryEntry, LineSource, ProductSku, SubscriberLine
from orders.models import CareOrder

DEMO = Path(__file__).resolve().parents[2] / "directory" / "demo"
HEADER = "account_id,account_name,city,state,zip_code,ctn\n"


def csv_file(tmp_path: Path, text: str, name: str = "records.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_good_rows_are_kept_and_bad_ones_reported_by_line_with_numbers_masked(tmp_path):
    path = csv_file(
        tmp_path,
        HEADER
        + "A-100,Acme Roofing,houston,tx,77002,(713) 555-0101\n"
        + "A-100,Acme Roofing,houston,tx,77002,+1 713 555 0102\n"
        + "A-200,Bolt Electric,Dallas,TX,75201,71355501\n"
        + "\n"
        + "A 300,Bad Id,Dallas,TX,75201,2145550199\n"
        + "A-400,,Dallas,TX,75201,2145550198\n"
        + "A-500,Zip Co,Dallas,TX,7520,2145550197\n",
    )

    report = records.import_lines(path)

    assert (report.kept, report.accounts) == (2, 1)
    assert [(p.line, p.message) for p in report.problems] == [
        (4, "the CTN ending 5501 is not a 10-digit phone number"),
        (6, "the account_id must be letters, digits and '-' (up to 64)"),
        (7, "no account_name"),
        (8, "the zip_code must be 5 or 9 digits"),
    ]
    assert not any("2145550199" in p.message or "71355501" in p.message for p in report.problems)
    stored = {line.last4: line for line in SubscriberLine.objects.all()}
    assert set(stored) == {"0101", "0102"}
    assert all(line.source == LineSource.RECORDS for line in stored.values())
    assert "7135550101" not in stored["0101"].encrypted_ctn
    assert lines._number_of(stored["0101"]) == "7135550101"
    entry = DirectoryEntry.objects.get(carrier_key="account:A-100")
    assert (entry.name, entry.city, entry.state, entry.zip_code) == (
        "Acme Roofing",
        "Houston",
        "TX",
        "77002",
    )
    assert entry.ctn_last4 == "0101 0102" and "7135550101" not in entry.search_text


@pytest.mark.django_db
def test_two_numbers_of_an_account_ending_alike_are_both_refused(tmp_path, alice):
    earlier = CareOrder.objects.create(
        created_by=alice, status="completed", foundation_account_number="B-1", ctns="2145550142"
    )
    assert lines.learn_from_order(earlier) == 1
    path = csv_file(
        tmp_path,
        HEADER
        + "A-1,Acme,Houston,TX,77002,7135550142\n"
        + "A-1,Acme,Houston,TX,77002,8325550142\n"
        + "B-1,Bolt,Dallas,TX,75201,7135550142\n"
        + "B-1,Bolt,Dallas,TX,75201,2145550999\n",
    )

    report = records.import_lines(path)

    assert [p.line for p in report.problems] == [2, 3, 4]
    assert "account A-1 has another number ending 0142" in report.problems[0].message
    # The line the order taught is forgotten too: which phone "0142" is, nobody knows now.
    assert list(SubscriberLine.objects.values_list("account_id", "last4")) == [("B-1", "0999")]


@pytest.mark.django_db
def test_importing_the_same_file_again_changes_nothing_twice(tmp_path):
    path = csv_file(tmp_path, HEADER + "A-1,Acme,Houston,TX,77002,7135550142\n")
    assert records.import_lines(path).kept == 1
    assert records.import_lines(path).kept == 1
    assert SubscriberLine.objects.count() == 1 and DirectoryEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "The file is empty."),
        ("account_id,name,ctn\n", "The header must name the columns"),
        ("account_id,account_name\n", "ctn required"),
        ("f552cc5023d8319a,Texas Pecan Growers LLC,7135550142\n", "•••• 0142"),
        ("f552cc5023d8319a,Texas Pecan Growers LLC,713-555-0142\n", "•••• 0142"),
        ("a1,Acme,(713) 555-0142\n", "•••• 0142"),
        ("a1,Acme,+1 713.555.0142\n", "•••• 0142"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(tmp_path, text, says):
    with pytest.raises(FileProblem) as refused:
        records.import_lines(csv_file(tmp_path, text))
    message = re.sub(r"\D", "", str(refused.value))
    assert says in str(refused.value) and "5550142" not in message


@pytest.mark.django_db
def test_the_price_book_takes_each_names_sku_and_refuses_a_name_given_two(tmp_path):
    ProductSku.objects.create(name="Wi-Fi Gateway", sku="old-sku")
    path = csv_file(
        tmp_path,
        "sku,name\n"
        "sku1,Wi-Fi Gateway\n"
        "sku2,DSL Modem\n"
        "sku3,DSL Modem\n"
        "bad sku,Apple iPhone 15 128GB\n",
    )

    report = records.import_products(path)

    assert report.kept == 1
    assert [p.line for p in report.problems] == [3, 4, 5]
    assert dict(ProductSku.objects.values_list("name", "sku")) == {"Wi-Fi Gateway": "sku1"}


@pytest.mark.django_db
def test_the_command_loads_the_demo_records_and_fails_on_a_refused_row(tmp_path, capsys):
    call_command("import_partner_records", lines=DEMO / "lines.csv", products=DEMO / "products.csv")
    assert "7 lines kept for 4 accounts" in capsys.readouterr().out
    assert DirectoryEntry.objects.filter(name="Texas Pecan Growers LLC").exists()

    bad = csv_file(tmp_path, HEADER + "A-1,Acme,Houston,TX,77002,555\n")
    with pytest.raises(CommandError, match="1 row refused"):
        call_command("import_partner_records", lines=bad)
    assert "line 2: the CTN ending 555 is not a 10-digit phone number" in capsys.readouterr().err


@pytest.mark.django_db
def test_ops_import_in_the_admin_and_see_only_last_4s(client, olivia, tmp_path):
    client.force_login(olivia)
    url = reverse("admin:directory_subscriberline_import")
    with csv_file(tmp_path, HEADER + "A-1,Acme,Houston,TX,77002,7135550142\nA-2,,,,,1\n").open(
        "rb"
    ) as upload:
        response = client.post(url, {"file": upload})

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 row kept, for 1 account in the directory; 1 refused." in html
    assert "<td>3</td><td>no account_name</td>" in html
    listing = client.get(reverse("admin:directory_subscriberline_changelist")).content.decode()
    assert "•••• 0142" in listing and "7135550142" not in listing + html
    assert "Import a CSV file" in listing


@pytest.mark.django_db
def test_a_rep_cannot_import(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:directory_subscriberline_import"))
    assert response.status_code in (302, 403)
    assert not SubscriberLine.objects.exists()
