"""Anchor contacts: Customer Search's side of some lookup anchors.

A business appears in Customer Search as its contact person (an individual) with one WIRELESS
Business account whose `id` is the anchor's End-Customer Lookup `accountId`, and that account's
subscribers and products. Names, subscriber ids, full phone numbers and products are fixed here;
the rest comes from its own `random.Random(SEED + 1)`, so the main seed's stream (every generated
account, individual and id) is untouched. The table is in sandbox/README.md.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.seed import MARKETS, PRODUCTS, SEED, TARGET_SOR, _iso, _moment

CONTACT_SEED = SEED + 1
SERVICE_TYPE = "WIRELESS"


@dataclass(frozen=True)
class ContactSubscriber:
    id: str
    phone_number: str  # full; the store masks it like every other
    products: tuple[str, ...]  # names from PRODUCTS["WIRELESS"]


@dataclass(frozen=True)
class AnchorContact:
    anchor: str  # the lookup account's accountName
    given_name: str
    family_name: str
    title: str
    subscribers: tuple[ContactSubscriber, ...]


_PLAN = "AT&T Business Unlimited Performance"
_PREMIUM = "AT&T Unlimited Premium PL"
_IPHONE = "Apple iPhone 15 128GB"
_DAY_PASS = "International Day Pass"
ANCHOR_CONTACTS = (
    AnchorContact("Texas Pecan Growers LLC", "ROSA", "MENDEZ", "Ms", (
        ContactSubscriber("SUB-20001", "7135550142", (_PLAN, _IPHONE)),
        ContactSubscriber("SUB-20002", "7135552718", (_PLAN, _DAY_PASS)),
        ContactSubscriber("SUB-20003", "8325550466", (_PREMIUM,)),
    )),
    AnchorContact("Pecan Grove Logistics", "DALE", "HUYNH", "Mr", (
        ContactSubscriber("SUB-20004", "2815550731", (_PLAN,)),
        ContactSubscriber("SUB-20005", "2815550958", (_PLAN, _IPHONE)),
    )),
    AnchorContact("Main Street Dental Group", "NORA", "BLAKE", "Ms", (
        ContactSubscriber("SUB-20006", "2145550314", (_PREMIUM, _DAY_PASS)),
    )),
    AnchorContact("Capitol Coffee Roasters", "EVAN", "PRICE", "Mr", (
        ContactSubscriber("SUB-20007", "5125550877", (_PLAN,)),
    )),
)  # fmt: skip


_PRODUCT_ROWS = {row[2]: row for row in PRODUCTS[SERVICE_TYPE]}


def _market(phone_number: str) -> tuple:
    for market in MARKETS:
        if phone_number[:3] in market[2]:
            return market
    raise ValueError(f"no billing market has area code {phone_number[:3]}")


def _product(rng: random.Random, name: str, activated: datetime) -> dict[str, Any]:
    group, classification, _, description, characteristics = _PRODUCT_ROWS[name]
    created = activated - timedelta(hours=rng.randint(1, 72))
    return {
        "productOfferingTypeGroup": group,
        "isBundle": rng.random() < 0.2,
        "productOfferingClassification": classification,
        "name": name,
        "description": description,
        "status": {"status": "ACTIVE"},
        "activationDate": _iso(activated),
        "creationDate": _iso(created),
        "lastUpdate": _iso(_moment(rng, activated)),
        "place": [{"id": f"ADDR-{rng.randint(1, 99):02d}"}],
        "productCharacteristic": [{"name": key, "value": value} for key, value in characteristics],
    }


def _subscriber(rng: random.Random, fixed: ContactSubscriber, market: tuple) -> dict[str, Any]:
    activated = _moment(rng)
    return {
        "id": fixed.id,
        "phoneNumber": fixed.phone_number,
        "createdOn": _iso(activated),
        "updatedOn": _iso(_moment(rng, activated)),
        "activationDate": _iso(activated),
        "effectiveDate": _iso(_moment(rng, activated)),
        "subMarket": rng.choice(market[1]),
        "status": {"state": "ACTIVE"},
        "products": [_product(rng, name, activated) for name in fixed.products],
    }


def _account(
    rng: random.Random, person: dict[str, Any], contact: AnchorContact, account_id: str
) -> dict[str, Any]:
    market = _market(contact.subscribers[0].phone_number)
    subscribers = [_subscriber(rng, fixed, market) for fixed in contact.subscribers]
    created = _moment(rng)
    profile = person["profile"]
    return {
        "id": account_id,
        "givenName": person["givenName"],
        "familyName": person["familyName"],
        "title": contact.title,
        "middleInitial": profile["middleInitial"],
        "accountType": "Business",
        "accountSubType": "Small Business",
        "ratingType": "STANDARD",
        "serviceType": SERVICE_TYPE,
        "targetSOR": TARGET_SOR[SERVICE_TYPE],
        "subscribersCount": str(len(subscribers)),
        "createdOn": _iso(created),
        "lastModified": _iso(_moment(rng, created)),
        "openDate": _iso(created + timedelta(days=1)),
        "billingMarket": market[0],
        "billingSubMarket": rng.choice(market[1]),
        "accountLocked": "N",
        "state": {"state": "ACTIVE"},
        "isDigitalAccount": True,
        "languagePreference": "en",
        "smbContactInfo": {
            "nameInfo": {"firstName": profile["firstName"], "lastName": profile["lastName"]}
        },
        "subscribers": subscribers,
    }


def _lookup_account_ids(lookup_accounts: list[dict[str, Any]]) -> dict[str, str]:
    """accountName -> accountId; the first account of a name wins (the anchors come first)."""
    ids: dict[str, str] = {}
    for item in lookup_accounts:
        ids.setdefault(item["accountName"], item["accountId"])
    return ids


def build_anchor_contacts(lookup_accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One Customer Search individual per ANCHOR_CONTACTS row, with full phone numbers."""
    rng = random.Random(CONTACT_SEED)
    account_ids = _lookup_account_ids(lookup_accounts)
    individuals = []
    for contact in ANCHOR_CONTACTS:
        first, last = contact.given_name, contact.family_name
        created = _moment(rng)
        person = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "givenName": first,
            "familyName": last,
            "preferredName": first,
            "profile": {
                "firstName": first,
                "lastName": last,
                "middleInitial": rng.choice(string.ascii_uppercase),
            },
            "status": "ACTIVE",
            "createdOn": _iso(created),
            "updatedOn": _iso(_moment(rng, created)),
        }
        person["accounts"] = [_account(rng, person, contact, account_ids[contact.anchor])]
        individuals.append(person)
    return individuals
