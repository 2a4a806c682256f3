"""The deterministic seed: lookup accounts (anchors first) and search individuals.

Everything comes from one `random.Random(SEED)`, so every fresh state file and every reset holds
exactly the same data. The anchors are listed in sandbox/README.md; tests and demos rely on them.
Some anchors' contacts (sandbox/seed_contacts.py, with its own stream) follow the individuals.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 20261123
ACCOUNTS_PER_CITY = 15
INDIVIDUAL_COUNT = 60
SERVICE_TYPES = ("FIBER", "WIRELESS", "DSL", "VIDEO")
_SEED_START = datetime(2019, 1, 1, tzinfo=UTC)
_SEED_END = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class City:
    name: str
    state: str
    zip_code: str
    streets: tuple[str, ...]
    places: tuple[str, ...]  # name words shared by several accounts, so lookups find 2-5


CITIES = (
    City("Houston", "TX", "77002", ("Main St", "Smith St", "Travis St", "Louisiana St", "Milam St"),
         ("Bayou", "Gulf Coast", "Magnolia", "Buffalo", "Space City")),
    City("Dallas", "TX", "75201", ("Elm St", "Commerce St", "Ross Ave", "Main St", "Akard St"),
         ("Trinity", "Big D", "Lone Star", "Reunion", "Deep Ellum")),
    City("Plano", "TX", "75075", ("Central Expy", "Alma Dr", "Park Blvd", "Custer Rd", "15th St"),
         ("Legacy", "Collin", "Prairie", "Willow Bend", "Heritage")),
    City("Austin", "TX", "78701",
         ("Congress Ave", "Lavaca St", "6th St", "Colorado St", "Brazos St"),
         ("Hill Country", "Barton", "Lady Bird", "Bluebonnet", "Zilker")),
    City("San Antonio", "TX", "78205", ("Commerce St", "Houston St", "Navarro St", "Alamo Plz"),
         ("Alamo", "Riverwalk", "Mission", "Pearl", "Brackenridge")),
    City("Atlanta", "GA", "30303", ("Peachtree St NE", "Marietta St NW", "Auburn Ave", "Broad St"),
         ("Peachtree", "Piedmont", "Buckhead", "Chattahoochee", "Magnolia")),
    City("Chicago", "IL", "60601", ("Michigan Ave", "Randolph St", "Lake St", "Wacker Dr"),
         ("Lakeshore", "Windy City", "Prairie", "Lincoln", "Second City")),
    City("Denver", "CO", "80202", ("Larimer St", "16th St", "Blake St", "Wazee St"),
         ("Mile High", "Rocky Mountain", "Front Range", "Aspen", "Columbine")),
    City("Phoenix", "AZ", "85004", ("Washington St", "Central Ave", "Van Buren St", "Roosevelt St"),
         ("Desert", "Saguaro", "Camelback", "Sonoran", "Valley")),
    City("Seattle", "WA", "98101", ("Pike St", "Pine St", "1st Ave", "Union St"),
         ("Puget Sound", "Rainier", "Emerald City", "Cascade", "Evergreen")),
    City("Nashville", "TN", "37219", ("Church St", "Broadway", "Union St", "Commerce St"),
         ("Music City", "Cumberland", "Honky Tonk", "Volunteer", "Parthenon")),
    City("Miami", "FL", "33131", ("Brickell Ave", "Flagler St", "Biscayne Blvd", "Miami Ave"),
         ("Biscayne", "Coral", "Everglades", "Ocean Drive", "Key")),
    City("Charlotte", "NC", "28202", ("Tryon St", "Trade St", "College St", "Church St"),
         ("Queen City", "Carolina", "Catawba", "Uptown", "Piedmont")),
    City("Columbus", "OH", "43215", ("High St", "Broad St", "Gay St", "Long St"),
         ("Buckeye", "Scioto", "Olentangy", "Arena", "German Village")),
    City("Minneapolis", "MN", "55402",
         ("Nicollet Mall", "Hennepin Ave", "Marquette Ave", "2nd Ave"),
         ("North Star", "Twin Cities", "Mississippi", "Lakes", "Loring")),
)  # fmt: skip
TRADES = (
    "Dental",
    "Logistics",
    "Roofing",
    "Bakery",
    "Law Group",
    "Realty",
    "Plumbing",
    "Auto Body",
    "Veterinary Clinic",
    "Insurance",
    "Construction",
    "Pharmacy",
    "Staffing",
    "Printing",
    "Landscaping",
    "HVAC",
    "Coffee",
    "Fitness",
    "Accounting",
    "Electric",
)
SUFFIXES = ("LLC", "Inc", "Co", "Group", "Partners", "Corp", "", "")
CONTRACT_STATUSES = ("Active (Remote)", "Active (Remote)", "Active", "Expired", "Pending", "None")
OTHER_ALLIANCE = ("OPPORTUNITY",) * 5 + ("PARTNER ENGAGED", "NOT ELIGIBLE")
SALES_SEGMENTS = ("SMALL BUSINESS", "MID MARKETS", "indirect sales test")


@dataclass(frozen=True)
class Anchor:
    """A fixed lookup account that tests and demos rely on."""

    name: str
    street: str
    city: str
    state: str
    zip_code: str
    alliance: str = "OPPORTUNITY"
    loa: str = "Y"
    account_status: str | None = "Active"
    exception: str = "NA"
    country: str = "US"


ANCHORS = (
    Anchor("Texas Pecan Growers LLC", "1200 Smith St", "Houston", "TX", "77002"),
    Anchor("Pecan Street Dental PLLC", "909 Fannin St", "Houston", "TX", "77002",
           alliance="ATT ONLY", loa="N", exception="N"),
    Anchor("Bayou Pecan Bakery Inc", "1001 Travis St", "Houston", "TX", "770021234",
           loa="N", account_status=None),
    Anchor("Pecan Grove Logistics", "700 Louisiana St", "Houston", "TX", "77002", country="USA"),
    Anchor("Texas Test Acct", "1234 W Pecan Pkwy", "Houston", "TX", "708001234"),
    Anchor("Texas Pecan Supply Co", "1300 W Pecan Pkwy", "Houston", "TX", "70800",
           alliance="ATT ONLY", loa="N", exception="N", country="USA"),
    Anchor("Main Street Dental Group", "123 Main St", "Dallas", "TX", "75201"),
    Anchor("Capitol Coffee Roasters", "100 Congress Ave", "Austin", "TX", "78701"),
    Anchor("Capitol Dental Care", "200 Congress Ave", "Austin", "TX", "78701", loa="N"),
    Anchor("Capitol Realty Group", "300 Congress Ave", "Austin", "TX", "78701"),
    Anchor("Capitol Print Shop", "400 Lavaca St", "Austin", "TX", "78701", account_status=None),
    Anchor("Capitol Auto Repair", "500 Lavaca St", "Austin", "TX", "78701",
           alliance="ATT ONLY", loa="N", exception="N"),
    Anchor("Capitol Law Partners", "600 Colorado St", "Austin", "TX", "78701"),
    Anchor("Capitol Fitness Club", "700 Colorado St", "Austin", "TX", "78701"),
    Anchor("Peachtree Pediatrics", "191 Peachtree St NE", "Atlanta", "GA", "30303",
           account_status=None),
)  # fmt: skip


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _code(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


class _Ids:
    """Unique account ids, drawn from the seed's random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._sub_accounts: set[str] = set()

    def account_id(self) -> str:
        if self.rng.random() < 0.6:
            return _digits(self.rng, 10)
        return _code(self.rng, "0123456789abcdef", 16)

    def sub_account_id(self) -> str:
        while True:
            candidate = _code(self.rng, string.ascii_uppercase + string.digits, 5)
            if candidate not in self._sub_accounts:
                self._sub_accounts.add(candidate)
                return candidate

    def partner_id(self) -> str:
        rng = self.rng
        return _digits(rng, 2) + _code(rng, string.ascii_uppercase, 2) + _digits(rng, 2)


def lookup_item(anchor: Anchor, ids: _Ids, contract_status: str, segment: str | None) -> dict:
    """One account exactly as End-Customer Lookup answers it."""
    return {
        "accountAddress": {
            "city": anchor.city.upper(),
            "country": anchor.country,
            "state": anchor.state,
            "street": anchor.street.upper(),
            "zipCode": anchor.zip_code,
        },
        "accountName": anchor.name,
        "accountId": ids.account_id(),
        "acid": str(ids.rng.randint(10000, 999999)),
        "salesSegment": segment,
        "subAccountId": ids.sub_account_id(),
        "contractStatus": contract_status,
        "parentPartnerAccId": _digits(ids.rng, 6),
        "partnerId": ids.partner_id(),
        "loaStatus": anchor.loa,
        "allianceStatus": anchor.alliance,
        "accountStatus": anchor.account_status,
        "exception": anchor.exception,
    }


def _generated_anchor(rng: random.Random, city: City, used: set[str]) -> Anchor:
    while True:
        name = " ".join(
            part for part in (rng.choice(city.places), rng.choice(TRADES), rng.choice(SUFFIXES))
            if part
        )  # fmt: skip
        if name not in used:
            used.add(name)
            break
    att_only = rng.random() < 1 / 8
    zip_code = city.zip_code + (_digits(rng, 4) if rng.random() < 0.3 else "")
    roll = rng.random()
    return Anchor(
        name=name,
        street=f"{rng.randint(100, 2999)} {rng.choice(city.streets)}",
        city=city.name,
        state=city.state,
        zip_code=zip_code,
        alliance="ATT ONLY" if att_only else rng.choice(OTHER_ALLIANCE),
        loa="Y" if rng.random() < 0.6 else "N",
        account_status=None if roll < 0.2 else ("Inactive" if roll > 0.9 else "Active"),
        exception="N" if att_only else ("Y" if rng.random() < 0.05 else "NA"),
        country="USA" if rng.random() < 0.15 else "US",
    )


def build_lookup_accounts(rng: random.Random) -> list[dict[str, Any]]:
    ids = _Ids(rng)
    items = [lookup_item(anchor, ids, "Active (Remote)", None) for anchor in ANCHORS]
    for city in CITIES:
        used = {anchor.name for anchor in ANCHORS}
        for _ in range(ACCOUNTS_PER_CITY):
            anchor = _generated_anchor(rng, city, used)
            segment = rng.choice(SALES_SEGMENTS) if rng.random() < 0.4 else None
            items.append(lookup_item(anchor, ids, rng.choice(CONTRACT_STATUSES), segment))
    return items


FIRST_NAMES = (
    "JANE", "JOHN", "MARIA", "JAMES", "AISHA", "ROBERT", "LINDA", "MICHAEL", "PRIYA", "DAVID",
    "ELENA", "WILLIAM", "GRACE", "CARLOS", "SARAH", "KEVIN", "NGOZI", "THOMAS", "MEI", "DANIEL",
    "FATIMA", "JOSEPH", "OLIVIA", "HIROSHI", "EMMA", "LUIS", "CHLOE", "ANDRE", "SOFIA", "OMAR",
)  # fmt: skip
LAST_NAMES = (
    "DOE", "SMITH", "GARCIA", "JOHNSON", "NGUYEN", "BROWN", "PATEL", "WILLIAMS", "LOPEZ", "KIM",
    "MILLER", "DAVIS", "OKAFOR", "WILSON", "MARTINEZ", "ANDERSON", "TAYLOR", "THOMAS", "MOORE",
    "JACKSON", "WHITE", "HARRIS", "CLARK", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN",
    "KING", "SCOTT",
)  # fmt: skip
MARKETS = (
    ("DAL", ("DAL-NORTH", "DAL-SOUTH"), ("214", "469", "972")),
    ("HOU", ("HOU-CENTRAL", "HOU-WEST"), ("713", "281", "832")),
    ("AUS", ("AUS-CENTRAL",), ("512", "737")),
    ("ATL", ("ATL-METRO", "ATL-NORTH"), ("404", "678", "770")),
    ("CHI", ("CHI-LOOP", "CHI-NORTH"), ("312", "773")),
    ("MIA", ("MIA-DADE",), ("305", "786")),
)
# (productOfferingTypeGroup, classification, name, description, characteristics)
PRODUCTS: dict[str, tuple[tuple[str, str, str, str, tuple[tuple[str, str], ...]], ...]] = {
    "FIBER": (
        ("BBOffer", "FIBER_PLAN", "AT&T Internet 300", "300 Mbps speed + unlimited internet data",
         (("downloadSpeed", "300 Mbps"), ("usageAllowance", "Unlimited"))),
        ("BBOffer", "FIBER_PLAN", "AT&T Internet 1000", "1 GIG speed + unlimited internet data",
         (("downloadSpeed", "1000 Mbps"), ("usageAllowance", "Unlimited"))),
        ("BBOffer", "FIBER_PLAN", "AT&T Internet 2000", "2 GIG speed + unlimited internet data",
         (("downloadSpeed", "2000 Mbps"), ("uploadSpeed", "2000 Mbps"))),
        ("BBOffer", "EQUIPMENT", "Wi-Fi Gateway", "AT&T BGW320 gateway",
         (("model", "BGW320-505"), ("ownership", "Leased"))),
    ),
    "WIRELESS": (
        ("WirelessOffer", "WIRELESS_PLAN", "AT&T Unlimited Premium PL", "Premium unlimited plan",
         (("dataAllowance", "Unlimited"), ("hotspot", "60GB"))),
        ("WirelessOffer", "WIRELESS_PLAN", "AT&T Business Unlimited Performance",
         "Business unlimited talk, text and data",
         (("dataAllowance", "Unlimited"), ("hotspot", "40GB"))),
        ("WirelessOffer", "DEVICE", "Apple iPhone 15 128GB", "Device on installment",
         (("deviceModel", "iPhone 15"), ("installmentMonths", "36"))),
        ("WirelessOffer", "FEATURE", "International Day Pass", "Use your plan abroad by the day",
         (("dailyRate", "$12"), ("countries", "210+"))),
    ),
    "DSL": (
        ("BBOffer", "DSL_PLAN", "AT&T Internet 25", "25 Mbps internet",
         (("downloadSpeed", "25 Mbps"), ("usageAllowance", "1 TB"))),
        ("BBOffer", "DSL_PLAN", "AT&T Internet 50", "50 Mbps internet",
         (("downloadSpeed", "50 Mbps"), ("usageAllowance", "1 TB"))),
        ("BBOffer", "EQUIPMENT", "DSL Modem", "AT&T 5268AC modem",
         (("model", "5268AC"), ("ownership", "Leased"))),
    ),
    "VIDEO": (
        ("VideoOffer", "VIDEO_PLAN", "DIRECTV STREAM Entertainment", "75+ live channels",
         (("channels", "75+"), ("cloudDvr", "Unlimited"))),
        ("VideoOffer", "VIDEO_PLAN", "DIRECTV STREAM Choice", "105+ live channels",
         (("channels", "105+"), ("regionalSports", "Included"))),
        ("VideoOffer", "EQUIPMENT", "DIRECTV STREAM Device", "Streaming device",
         (("model", "C71KW"), ("ownership", "Purchased"))),
    ),
}  # fmt: skip
TARGET_SOR = {"FIBER": "LS-CRM-DB", "WIRELESS": "TLG", "DSL": "LS-CRM-DB", "VIDEO": "DTV-CRM"}


def _moment(rng: random.Random, after: datetime = _SEED_START) -> datetime:
    span = int((_SEED_END - after).total_seconds())
    return after + timedelta(seconds=rng.randint(0, max(span, 0)))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _product(rng: random.Random, service_type: str, activated: datetime) -> dict[str, Any]:
    group, classification, name, description, characteristics = rng.choice(PRODUCTS[service_type])
    created = activated - timedelta(hours=rng.randint(1, 72))
    return {
        "productOfferingTypeGroup": group,
        "isBundle": rng.random() < 0.2,
        "productOfferingClassification": classification,
        "name": name,
        "description": description,
        "status": {"status": "ACTIVE" if rng.random() < 0.9 else "SUSPENDED"},
        "activationDate": _iso(activated),
        "creationDate": _iso(created),
        "lastUpdate": _iso(_moment(rng, activated)),
        "place": [{"id": f"ADDR-{rng.randint(1, 99):02d}"}],
        "productCharacteristic": [{"name": key, "value": value} for key, value in characteristics],
    }


class _SubscriberIds:
    def __init__(self) -> None:
        self.next = 10001

    def take(self) -> str:
        self.next += 1
        return f"SUB-{self.next - 1}"


def _subscriber(
    rng: random.Random, service_type: str, market: tuple, ids: _SubscriberIds
) -> dict[str, Any]:
    _, sub_markets, area_codes = market
    activated = _moment(rng)
    products = [_product(rng, service_type, activated) for _ in range(rng.randint(1, 3))]
    return {
        "id": ids.take(),
        "phoneNumber": rng.choice(area_codes) + str(rng.randint(2, 9)) + _digits(rng, 6),
        "createdOn": _iso(activated),
        "updatedOn": _iso(_moment(rng, activated)),
        "activationDate": _iso(activated),
        "effectiveDate": _iso(_moment(rng, activated)),
        "subMarket": rng.choice(sub_markets),
        "status": {"state": "ACTIVE" if rng.random() < 0.9 else "SUSPENDED"},
        "products": products,
    }


def _account(
    rng: random.Random, person: dict[str, Any], service_type: str, ids: _SubscriberIds
) -> dict[str, Any]:
    market = rng.choice(MARKETS)
    subscribers = [_subscriber(rng, service_type, market, ids) for _ in range(rng.randint(1, 4))]
    created = _moment(rng)
    business = rng.random() < 0.4
    profile = person["profile"]
    return {
        "id": _digits(rng, 9),
        "givenName": person["givenName"],
        "familyName": person["familyName"],
        "title": rng.choice(("Mr", "Ms", "Mx", "Dr")),
        "middleInitial": profile["middleInitial"],
        "accountType": "Business" if business else "Consumer",
        "accountSubType": "Small Business" if business else "Consumer Small Office",
        "ratingType": rng.choice(("STANDARD", "STANDARD", "PREMIUM")),
        "serviceType": service_type,
        "targetSOR": TARGET_SOR[service_type],
        "subscribersCount": str(len(subscribers)),
        "createdOn": _iso(created),
        "lastModified": _iso(_moment(rng, created)),
        "openDate": _iso(created + timedelta(days=1)),
        "billingMarket": market[0],
        "billingSubMarket": rng.choice(market[1]),
        "accountLocked": "Y" if rng.random() < 0.05 else "N",
        "state": {"state": "ACTIVE" if rng.random() < 0.9 else "SUSPENDED"},
        "isDigitalAccount": rng.random() < 0.7,
        "languagePreference": "es" if rng.random() < 0.15 else "en",
        "smbContactInfo": {
            "nameInfo": {"firstName": profile["firstName"], "lastName": profile["lastName"]}
        },
        "subscribers": subscribers,
    }


def _service_types(rng: random.Random, index: int) -> list[str]:
    chosen = rng.sample(SERVICE_TYPES, rng.randint(1, 3))
    # Every other individual has a WIRELESS account, so a WIRELESS search always pages.
    if index % 2 == 0 and "WIRELESS" not in chosen:
        chosen[0] = "WIRELESS"
    return chosen


def build_individuals(rng: random.Random) -> list[dict[str, Any]]:
    """Customer Search individuals with full (unmasked) phone numbers."""
    names = rng.sample(
        [(first, last) for first in FIRST_NAMES for last in LAST_NAMES], INDIVIDUAL_COUNT
    )
    ids = _SubscriberIds()
    individuals = []
    for index, (first, last) in enumerate(names):
        created = _moment(rng)
        person = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "givenName": first,
            "familyName": last,
            "preferredName": first[:3] + "IE" if rng.random() < 0.3 else first,
            "profile": {
                "firstName": first,
                "lastName": last,
                "middleInitial": rng.choice(string.ascii_uppercase),
            },
            "status": "ACTIVE" if rng.random() < 0.9 else "INACTIVE",
            "createdOn": _iso(created),
            "updatedOn": _iso(_moment(rng, created)),
        }
        types = _service_types(rng, index)
        person["accounts"] = [_account(rng, person, kind, ids) for kind in types]
        individuals.append(person)
    return individuals


@dataclass(frozen=True)
class SeedData:
    lookup_accounts: list[dict[str, Any]]
    individuals: list[dict[str, Any]]


def build_seed() -> SeedData:
    # Imported here: seed_contacts builds on this module's products and helpers.
    from sandbox.seed_contacts import build_anchor_contacts

    rng = random.Random(SEED)
    lookup_accounts = build_lookup_accounts(rng)
    individuals = build_individuals(rng)
    # The anchor contacts draw on their own random stream, after everything above.
    individuals += build_anchor_contacts(lookup_accounts)
    return SeedData(lookup_accounts=lookup_accounts, individuals=individuals)
