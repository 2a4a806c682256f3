"""What `make bench` sends is what the carrier's contract allows: a bench that measures the
sandbox refusing its writes measures nothing (it once sent `"street2": ""`)."""

import json
from email.message import Message

import pytest

from bench.bodies import account_body, care_order_body
from sandbox.contract import check_request


def headers(values: dict[str, str]) -> Message:
    message = Message()
    message["Content-Type"] = "application/json"
    for name, value in values.items():
        message[name] = value
    return message


ORDER_HEADERS = {"X-ATT-ClientId": "b", "X-ATT-ConversationId": "c", "X-ATT-MessageId": "m"}
ACCOUNT_HEADERS = {"client_id": "b", "client_secret": "s", "x-trace-id": "t"}
ACCOUNT_HEADERS["x-transaction-id"] = "x"


@pytest.mark.parametrize("n", [0, 7, 299])
def test_the_bench_writes_keep_to_the_contract(n):
    order = json.dumps(care_order_body(n)).encode()
    account = json.dumps(account_body(n)).encode()
    assert check_request("care_order", headers(ORDER_HEADERS), order) == []
    assert check_request("account_create", headers(ACCOUNT_HEADERS), account) == []
