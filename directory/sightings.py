"""What the portal saw at the carrier, as directory rows: one function per kind of answer.

Each returns a dict of DirectoryEntry fields (with "carrier_key"), or None when the answer
carries no id to key it by. Only the last 4 digits of any phone number are ever taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from directory.models import Kind
from portal.upstream.accounts import AccountMatch
from portal.upstream.search import Individual, phone_last4


@dataclass(frozen=True)
class PartnerAccount:
    """An account of the solution provider's own records (directory/records.py)."""

    account_id: str
    name: str
    city: str = ""
    state: str = ""
    zip_code: str = ""
    last4s: tuple[str, ...] = ()


def from_lookup_match(match: AccountMatch) -> dict | None:
    if not match.account_id:
        return None
    return {
        "carrier_key": f"account:{match.account_id}",
        "kind": Kind.ORGANIZATION,
        "name": match.account_name,
        "city": match.city.title(),
        "state": match.state,
        "zip_code": match.zip_code,
        "account_id": match.account_id,
        "sub_account_id": match.sub_account_id,
        # The lookup's ACID is the customer number the create answer calls userFriendlyCoID.
        "customer_number": match.acid,
    }


def from_individual(person: Individual) -> dict | None:
    if not person.id:
        return None
    accounts = [
        {
            "id": account.id,
            "service_type": account.service_type,
            "status": account.status,
            "subscribers": [
                {
                    "id": sub.id,
                    "last4": sub.phone_last4,
                    "status": sub.status,
                    # Names only: the carrier gives a product no SKU an order could name.
                    "products": [
                        {"name": product.name, "status": product.status}
                        for product in sub.products
                        if product.name
                    ],
                }
                for sub in account.subscribers
            ],
        }
        for account in person.accounts
    ]
    last4s = [sub["last4"] for account in accounts for sub in account["subscribers"]]
    return {
        "carrier_key": f"individual:{person.id}",
        "kind": Kind.INDIVIDUAL,
        "name": person.full_name or person.preferred_name or person.id,
        "account_ids": " ".join(account["id"] for account in accounts if account["id"]),
        "ctn_last4": " ".join(value for value in last4s if value),
        "accounts": accounts,
    }


def from_created_customer(customer: Any) -> dict | None:
    """An accounts.Customer the carrier created: keyed as its lookup will later find it."""
    if not (customer.carrier_id or customer.carrier_user_friendly_id):
        return None
    key = customer.carrier_id and f"account:{customer.carrier_id}"
    return {
        "carrier_key": key or f"number:{customer.carrier_user_friendly_id}",
        "kind": Kind.ORGANIZATION,
        "name": customer.name,
        "city": customer.city.title(),
        "state": customer.state_code,
        "zip_code": customer.post_code,
        "account_id": customer.carrier_id,
        "customer_number": customer.carrier_user_friendly_id,
    }


def from_bulk_customer(record: dict) -> dict | None:
    """A customer record of a bulk batch the carrier took (the file's own column names)."""
    source_id = str(record.get("sourceCustomerId") or "")
    if not source_id:
        return None
    return {
        "carrier_key": f"bulk:{source_id}",
        "kind": Kind.BULK_CUSTOMER,
        "name": str(record.get("organizationId") or source_id),
        "zip_code": str(record.get("postalCode") or ""),
        # The solution provider's own id for the customer, not a carrier account number.
        "customer_number": source_id,
    }


def from_partner_account(account: PartnerAccount) -> dict:
    """Keyed as the carrier's lookup will find the account, so the two become one entry."""
    return {
        "carrier_key": f"account:{account.account_id}",
        "kind": Kind.ORGANIZATION,
        "name": account.name,
        "city": account.city.title(),
        "state": account.state,
        "zip_code": account.zip_code,
        "account_id": account.account_id,
        "ctn_last4": " ".join(account.last4s),
    }


def as_row(seen: Any) -> dict | None:
    """Any of the answers above, as a row; anything else is not a customer we can key."""
    if isinstance(seen, PartnerAccount):
        return from_partner_account(seen)
    if isinstance(seen, AccountMatch):
        return from_lookup_match(seen)
    if isinstance(seen, Individual):
        return from_individual(seen)
    if isinstance(seen, dict):
        return from_bulk_customer(seen)
    if hasattr(seen, "carrier_user_friendly_id"):
        return from_created_customer(seen)
    return None


def search_text(row: dict) -> str:
    """Everything the search box matches, as words: name, ids, place and last 4s."""
    names = ("name", "account_id", "sub_account_id", "customer_number", "account_ids")
    names += ("city", "state", "zip_code", "ctn_last4")
    return " ".join(str(row.get(name) or "") for name in names if row.get(name)).strip()


__all__ = ["as_row", "phone_last4", "search_text"]
