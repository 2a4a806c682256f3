"""Answer variants: a success answered otherwise than the pages show, to try the portal's parsing.

`documented` is the pages' own shape. The others are what a carrier's gateway or another version
of its docs may send: no body, `{}`, renamed fields (names the docs have used), unknown extra
fields. The care order's own variants (no body, `{}`, an id) are chosen where it is accepted,
since an id given out changes what its pushes carry.
"""

from __future__ import annotations

import json
from typing import Any

DOCUMENTED = "documented"
EMPTY = "empty"
EMPTY_OBJECT = "empty_object"
WITH_ID = "with_id"
RENAMED = "renamed"
EXTRA_FIELDS = "extra_fields"

# Names a field has had in other versions of the carrier's docs: documented name -> other name.
_LOOKUP_RENAMES = {
    "accountAddress": "address",
    "subAccountId": "subAccountID",
    "loaStatus": "LOAStatus",
    "acid": "ACID",
    "zipCode": "zip",
}
_SEARCH_RENAMES = {"totalCount": "total", "givenName": "firstName", "familyName": "lastName"}
_EXTRA = {"x-gateway-request": "f3a9c2", "apiVersion": "2.7"}


def _renamed(data: Any, names: dict[str, str]) -> Any:
    if isinstance(data, dict):
        return {names.get(key, key): _renamed(value, names) for key, value in data.items()}
    if isinstance(data, list):
        return [_renamed(item, names) for item in data]
    return data


def _with_extra(data: Any) -> Any:
    """Unknown fields added to every object, at every depth."""
    if isinstance(data, dict):
        return {**{key: _with_extra(value) for key, value in data.items()}, **_EXTRA}
    if isinstance(data, list):
        return [_with_extra(item) for item in data]
    return data


def _renamed_answer(endpoint: str, data: Any) -> Any:
    if endpoint == "lookup":
        # An older version wrapped the matches in an object.
        return {"accounts": _renamed(data, _LOOKUP_RENAMES)}
    if endpoint == "account_create" and isinstance(data, dict):
        records = data.get("responseData") or [{}]
        organization = _renamed(records[0], {"userFriendlyCoID": "userFriendlyCoId"})
        return {**data, "responseData": organization}
    if endpoint == "search":
        return _renamed(data, _SEARCH_RENAMES)
    if endpoint == "bulk_create":
        return _renamed(data, {"requestId": "requestID"})
    return data


def answer_body(endpoint: str, variant: str, body: bytes) -> bytes:
    """A documented 2xx body, answered as `variant` asks."""
    if variant == EMPTY:
        return b""
    if variant == EMPTY_OBJECT:
        return b"{}"
    if variant not in (RENAMED, EXTRA_FIELDS) or not body:
        return body
    data = json.loads(body)
    data = _renamed_answer(endpoint, data) if variant == RENAMED else _with_extra(data)
    return json.dumps(data).encode()


def care_order_body(variant: str, order_id: str) -> tuple[bytes, bool]:
    """The 202's body, and whether it gave the partner the carrier's order id."""
    if variant == EMPTY_OBJECT:
        return b"{}", False
    if variant == WITH_ID:
        return json.dumps({"orderId": order_id}).encode(), True
    if variant == RENAMED:
        return json.dumps({"orderID": order_id}).encode(), True
    if variant == EXTRA_FIELDS:
        return json.dumps({"orderId": order_id, **_EXTRA}).encode(), True
    return b"", False
