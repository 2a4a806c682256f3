"""Only portal/upstream knows the carrier's field names: no form or view of the apps does."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "portal/upstream/contract/carrier.yaml"
FORMS_AND_VIEWS = [
    *ROOT.glob("accounts/*views.py"),
    *ROOT.glob("accounts/forms*.py"),
    *ROOT.glob("orders/*views.py"),
    *ROOT.glob("orders/forms*.py"),
    *ROOT.glob("orders/forms/*.py"),
]


def _property_names(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found.update(value)
            _property_names(value, found)
    elif isinstance(node, list):
        for item in node:
            _property_names(item, found)
    return found


def carrier_field_names() -> set[str]:
    """The contract's field names that are the carrier's own words: camelCase or with a digit
    (street1), plus the short ones no plain English name shares (udl)."""
    names = _property_names(yaml.safe_load(CONTRACT.read_text()), set())
    return {name for name in names if re.search(r"[a-z][A-Z]|\d", name)} | {"udl"}


def test_it_finds_the_pages_field_names_in_the_contract():
    names = carrier_field_names()

    assert {"changeRequestId", "foundationAccountNumber", "zipCode", "resetVoiceMail"} <= names
    assert {"street1", "postCode", "serviceType", "pageSize", "sourceCustomerId"} <= names
    assert len(FORMS_AND_VIEWS) >= 8


def test_no_form_or_view_of_the_apps_names_a_carrier_field():
    names = carrier_field_names()
    pattern = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")

    found = [
        f"{path.relative_to(ROOT)}:{number}: {match.group()}"
        for path in FORMS_AND_VIEWS
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for match in pattern.finditer(line)
    ]

    assert found == []
