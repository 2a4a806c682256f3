"""Care order progression (accepted -> received -> completed | failed) and its signed pushes.

Both loops read their work from SQLite, so orders and undelivered pushes survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import random
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sandbox.config import RuntimeConfig
from sandbox.store import DueOrder, PendingPush, Store

MAX_PUSH_ATTEMPTS = 6
PUSH_TIMEOUT_S = 5.0
PUSH_WORKERS = 8
IDLE_WAIT_S = 0.5
# Pushes go to loopback in dev: never through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Carrier-Signature value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t." + body>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _skus(order_request: dict[str, Any]) -> list[str]:
    return [
        str(item.get("id", ""))
        for change in order_request["changeRequest"]
        for item in change.get("items") or []
        if isinstance(item, dict)
    ]


def plan_outcome(order_request: dict[str, Any], config: dict[str, Any]) -> tuple[str, str | None]:
    """Decided at acceptance: ("completed", None) or ("failed", reason)."""
    fail_skus = {sku.upper() for sku in config["fail_skus"]}
    for sku in _skus(order_request):
        if sku.upper().startswith("FAIL") or sku.upper() in fail_skus:
            return "failed", f"SKU {sku} is not orderable for this rate plan"
    if random.random() < config["order_fail_rate"]:
        return "failed", "The billing system rejected the order (simulated failure rate)"
    return "completed", None


class BackgroundLoop:
    """A daemon thread that calls tick() again after the delay tick() returns, or when poked."""

    name = "loop"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=2)

    def poke(self) -> None:
        self._wake.set()

    def tick(self) -> float:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the tick, so a poke during the tick is not lost.
            self._wake.clear()
            try:
                wait = self.tick()
            except Exception:  # noqa: BLE001 - a bad tick must not kill the loop for good
                traceback.print_exc(file=sys.stderr)
                wait = 1.0
            self._wake.wait(timeout=wait)


def _wait_until(moment: float | None) -> float:
    if moment is None:
        return IDLE_WAIT_S
    return min(max(moment - time.time(), 0.0), IDLE_WAIT_S)


class MilestoneScheduler(BackgroundLoop):
    name = "sandbox-milestones"

    def __init__(self, store: Store, config: RuntimeConfig, on_push: Callable[[], None]) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.on_push = on_push

    def tick(self) -> float:
        for order in self.store.due_orders(time.time()):
            self._advance(order)
        return _wait_until(self.store.next_due_at())

    def _advance(self, order: DueOrder) -> None:
        config = self.config.snapshot()
        if order.status == "ACCEPTED":
            event = self.store.transition_order(
                order.order_id,
                from_statuses=("ACCEPTED",),
                to_status="RECEIVED",
                milestone="received",
                reason=None,
                next_due_at=time.time() + config["milestone_delays"][1],
                notify_url=config["notify_url"],
            )
        else:
            event = self.store.transition_order(
                order.order_id,
                from_statuses=("RECEIVED",),
                to_status=order.outcome.upper(),
                milestone=order.outcome,
                reason=order.outcome_reason,
                next_due_at=None,
                notify_url=config["notify_url"],
            )
        if event is not None and config["notify_url"]:
            self.on_push()


def _backoff(attempts: int) -> float:
    return min(0.5 * 2 ** (attempts - 1), 30.0)


class PushNotifier(BackgroundLoop):
    """Delivers queued milestone pushes, one in flight per order so each order's arrive in order."""

    name = "sandbox-pushes"

    def __init__(self, store: Store, config: RuntimeConfig) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self._senders = ThreadPoolExecutor(PUSH_WORKERS, thread_name_prefix="sandbox-push")
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()

    def stop(self) -> None:
        super().stop()
        self._senders.shutdown(wait=False, cancel_futures=True)

    def tick(self) -> float:
        with self._lock:
            busy = set(self._in_flight)
        for push in self.store.due_pushes(time.time(), busy, limit=PUSH_WORKERS * 2):
            with self._lock:
                self._in_flight.add(push.order_id)
            self._senders.submit(self._deliver, push)
        return _wait_until(self.store.next_push_at())

    def _deliver(self, push: PendingPush) -> None:
        try:
            error = self._send(push)
            attempts = push.attempts + 1
            if error is None:
                state = "delivered"
            else:
                state = "dead" if attempts >= MAX_PUSH_ATTEMPTS else "pending"
            self.store.mark_push(
                push.id,
                state=state,
                attempts=attempts,
                next_attempt_at=time.time() + _backoff(attempts),
                error=error,
            )
        except Exception:  # noqa: BLE001 - a sender thread reports, it must not die silently
            traceback.print_exc(file=sys.stderr)
        finally:
            with self._lock:
                self._in_flight.discard(push.order_id)
            self.poke()

    def _send(self, push: PendingPush) -> str | None:
        """None when delivered (2xx); otherwise why not."""
        body = push.body.encode()
        signature = sign(self.config.snapshot()["notify_secret"], int(time.time()), body)
        request = urllib.request.Request(
            push.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-Carrier-Signature": signature},
        )
        try:
            with _OPENER.open(request, timeout=PUSH_TIMEOUT_S) as response:
                response.read()
                return None if 200 <= response.status < 300 else f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code}"
        except (OSError, http.client.HTTPException) as error:
            return f"{type(error).__name__}: {error}"
