"""Customer Search: individuals, their accounts, subscribers and products, one page at a time."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from portal.audit.models import Action
from portal.upstream import errors
from portal.upstream.http import SEARCH, Call, send_read
from portal.upstream.parsing import dict_field, list_field, text_field

SEARCH_PATH = "/omni-svcs/v1/customers/search"
_NOT_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class Product:
    name: str
    description: str
    status: str
    classification: str
    characteristics: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Subscriber:
    id: str
    # Only the last 4 digits are ever kept, whatever the carrier sent.
    phone_last4: str
    status: str
    sub_market: str
    activation_date: str
    products: tuple[Product, ...]


@dataclass(frozen=True)
class CustomerAccount:
    id: str
    account_type: str
    account_sub_type: str
    service_type: str
    status: str
    billing_market: str
    billing_sub_market: str
    rating_type: str
    subscribers_count: str
    subscribers: tuple[Subscriber, ...]


@dataclass(frozen=True)
class Individual:
    id: str
    given_name: str
    family_name: str
    preferred_name: str
    status: str
    accounts: tuple[CustomerAccount, ...]

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class SearchPage:
    total_count: int
    page_size: int
    page_offset: int
    individuals: tuple[Individual, ...]

    @property
    def num_pages(self) -> int:
        if self.page_size < 1:
            return 1
        return max(1, math.ceil(self.total_count / self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page_offset > 1

    @property
    def has_next(self) -> bool:
        return self.page_offset < self.num_pages

    @property
    def previous_offset(self) -> int:
        """The page before this one; from past the end, the last page that has anyone."""
        return max(1, min(self.page_offset - 1, self.num_pages))

    def individual(self, individual_id: str) -> Individual | None:
        return next((person for person in self.individuals if person.id == individual_id), None)


def search_customers(*, service_type: str, page_size: int, page_offset: int, actor) -> SearchPage:
    """One page of individuals; `page_offset` is a page number from 1, as the carrier counts."""
    body: dict[str, Any] = {}
    if service_type:
        body["serviceType"] = service_type
    body["pageSize"] = page_size
    body["pageOffset"] = page_offset
    call = Call(
        api=SEARCH,
        action=Action.SEARCH,
        method="POST",
        path=SEARCH_PATH,
        headers={"accept": "application/json", "content-type": "application/json"},
        body=body,
        actor=actor,
        read_timeout=settings.UPSTREAM_LOOKUP_READ_TIMEOUT,
    )
    page = send_read(call, parse=parse_search_page).result
    # Where the carrier was silent about paging, what we asked for is the best we know.
    seen_so_far = (page_offset - 1) * page_size + len(page.individuals) if page.individuals else 0
    return dataclasses.replace(
        page,
        page_size=page.page_size or page_size,
        page_offset=page.page_offset or page_offset,
        total_count=max(page.total_count, seen_so_far),
    )


def parse_search_page(data: Any) -> SearchPage:
    """`{totalCount, pageInfo: {pageSize, pageOffset}, individuals: [...]}`, read defensively."""
    if not isinstance(data, dict):
        raise errors.MalformedResponse("search answer is not an object")
    individuals = data.get("individuals")
    if not isinstance(individuals, list):
        raise errors.MalformedResponse("search answer has no list of individuals")
    page_info = dict_field(data, "pageInfo")
    return SearchPage(
        total_count=_count(text_field(data, "totalCount", "total")),
        page_size=_count(text_field(page_info, "pageSize")),
        page_offset=_count(text_field(page_info, "pageOffset")),
        individuals=tuple(_individual(item) for item in individuals if isinstance(item, dict)),
    )


def phone_last4(value: str) -> str:
    """The last 4 digits of a phone number, masked or not: '******1234' -> '1234'."""
    return _NOT_DIGITS.sub("", value)[-4:]


def _count(text: str) -> int:
    try:
        return max(0, int(text))
    except ValueError:
        return 0


def _dicts(item: dict, key: str) -> list[dict]:
    return [entry for entry in list_field(item, key) if isinstance(entry, dict)]


def _individual(item: dict) -> Individual:
    return Individual(
        id=text_field(item, "id"),
        given_name=text_field(item, "givenName", "firstName"),
        family_name=text_field(item, "familyName", "lastName"),
        preferred_name=text_field(item, "preferredName"),
        status=text_field(item, "status"),
        accounts=tuple(_account(account) for account in _dicts(item, "accounts")),
    )


def _account(item: dict) -> CustomerAccount:
    return CustomerAccount(
        id=text_field(item, "id"),
        account_type=text_field(item, "accountType"),
        account_sub_type=text_field(item, "accountSubType"),
        service_type=text_field(item, "serviceType"),
        status=text_field(dict_field(item, "state"), "state"),
        billing_market=text_field(item, "billingMarket"),
        billing_sub_market=text_field(item, "billingSubMarket"),
        rating_type=text_field(item, "ratingType"),
        subscribers_count=text_field(item, "subscribersCount"),
        subscribers=tuple(_subscriber(subscriber) for subscriber in _dicts(item, "subscribers")),
    )


def _subscriber(item: dict) -> Subscriber:
    return Subscriber(
        id=text_field(item, "id"),
        phone_last4=phone_last4(text_field(item, "phoneNumber")),
        status=text_field(dict_field(item, "status"), "state"),
        sub_market=text_field(item, "subMarket"),
        activation_date=text_field(item, "activationDate"),
        products=tuple(_product(product) for product in _dicts(item, "products")),
    )


def _product(item: dict) -> Product:
    return Product(
        name=text_field(item, "name"),
        description=text_field(item, "description"),
        status=text_field(dict_field(item, "status"), "status"),
        classification=text_field(item, "productOfferingClassification"),
        characteristics=tuple(
            (text_field(pair, "name"), text_field(pair, "value"))
            for pair in _dicts(item, "productCharacteristic")
        ),
    )
