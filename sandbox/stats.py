"""In-memory request counters and the recent-request log (reset with the sandbox)."""

from __future__ import annotations

import os
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.faults import ENDPOINTS

REDACTED_HEADERS = frozenset({"client_secret", "authorization"})
# Enough for the tests' look-backs; a chaos run that reconciles every request asks for more.
LOG_SIZE = int(os.environ.get("SANDBOX_REQUEST_LOG_SIZE", "1000"))


@dataclass(frozen=True)
class Effects:
    """What one request did to the carrier's state, for the side-effect counters."""

    side_effects: int = 0
    updates: int = 0
    replays: int = 0


@dataclass
class EndpointCounters:
    requests: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    side_effects: int = 0
    updates: int = 0
    replays: int = 0
    # Breaches of the contract, and the requests refused for them.
    violations: int = 0
    refused: int = 0

    def add(self, status: str, effects: Effects, violations: int = 0) -> None:
        self.requests += 1
        self.violations += violations
        self.refused += 1 if violations else 0
        self.by_status[status] += 1
        self.side_effects += effects.side_effects
        self.updates += effects.updates
        self.replays += effects.replays

    def merge(self, other: EndpointCounters) -> None:
        self.requests += other.requests
        self.by_status.update(other.by_status)
        self.side_effects += other.side_effects
        self.updates += other.updates
        self.replays += other.replays
        self.violations += other.violations
        self.refused += other.refused

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": dict(sorted(self.by_status.items())),
            "side_effects": self.side_effects,
            "updates": self.updates,
            "replays": self.replays,
            "violations": self.violations,
            "refused": self.refused,
        }


def redact_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {
        name.lower(): "[present]" if name.lower() in REDACTED_HEADERS else value
        for name, value in headers
    }


class Recorder:
    """Counts every request per endpoint and keeps the last LOG_SIZE of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters = {name: EndpointCounters() for name in ENDPOINTS}
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)

    def record(
        self, entry: dict[str, Any], status: str, effects: Effects, violations: int = 0
    ) -> None:
        with self._lock:
            self._counters[entry["endpoint"]].add(status, effects, violations)
            self._log.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._counters = {name: EndpointCounters() for name in ENDPOINTS}
            self._log.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            totals = EndpointCounters()
            for counters in self._counters.values():
                totals.merge(counters)
            answer = {name: counters.as_dict() for name, counters in self._counters.items()}
        answer["totals"] = totals.as_dict()
        return answer

    def recent(self, endpoint: str | None, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            entries = [e for e in self._log if endpoint is None or e["endpoint"] == endpoint]
        return entries[-limit:] if limit > 0 else []
