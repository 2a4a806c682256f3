"""Injected faults: latency, errors before processing, lost answers after processing."""

from __future__ import annotations

import copy
import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from sandbox.config import ConfigError

ENDPOINTS = (
    "lookup",
    "account_create",
    "search",
    "bulk_create",
    "care_order",
    "care_order_status",
)
WILDCARD = "*"
BEFORE_PROCESSING = frozenset({"500", "503", "429"})
AFTER_PROCESSING = frozenset({"hang", "malformed"})
OUTCOMES = BEFORE_PROCESSING | AFTER_PROCESSING | {"ok"}
RULE_DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "rate_429": 0.0,
    "retry_after": 1,
    "hang_rate": 0.0,
    "hang_seconds": 30,
    "malformed_rate": 0.0,
    "sequence": [],
    "answer": "documented",
}
# How a success is answered: as the pages show it, or as other versions of the docs and other
# carriers' gateways do, so the portal's defensive parsing is tried on every API.
ANSWER_VARIANTS = ("documented", "empty", "empty_object", "with_id", "renamed", "extra_fields")
_RATES = ("error_rate", "rate_429", "hang_rate", "malformed_rate")


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: sleep first, then maybe fail before or after processing."""

    latency_s: float = 0.0
    before: str | None = None  # "500" | "503" | "429": answered instead of processing
    after: str | None = None  # "hang" | "malformed": processed, then the answer is lost
    retry_after: int = 1
    hang_seconds: float = 30.0
    answer: str = "documented"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_rule(name: str, rule: Any) -> dict[str, Any]:
    if not isinstance(rule, dict):
        raise ConfigError(f"faults[{name!r}] must be an object")
    unknown = sorted(set(rule) - set(RULE_DEFAULTS))
    if unknown:
        raise ConfigError(f"faults[{name!r}] has unknown keys: {', '.join(unknown)}")
    checked = {**copy.deepcopy(RULE_DEFAULTS), **rule}
    for key in _RATES:
        if not _is_number(checked[key]) or not 0 <= checked[key] <= 1:
            raise ConfigError(f"faults[{name!r}].{key} must be a number from 0 to 1")
    for key in ("latency_ms", "hang_seconds"):
        if not _is_number(checked[key]) or checked[key] < 0:
            raise ConfigError(f"faults[{name!r}].{key} must be a number >= 0")
    if not isinstance(checked["retry_after"], int) or checked["retry_after"] < 0:
        raise ConfigError(f"faults[{name!r}].retry_after must be an integer >= 0")
    sequence = checked["sequence"]
    if not isinstance(sequence, list) or not all(str(item) in OUTCOMES for item in sequence):
        raise ConfigError(f"faults[{name!r}].sequence items must be among {sorted(OUTCOMES)}")
    checked["sequence"] = [str(item) for item in sequence]
    if checked["answer"] not in ANSWER_VARIANTS:
        raise ConfigError(f"faults[{name!r}].answer must be one of {', '.join(ANSWER_VARIANTS)}")
    return checked


def validate_faults(config: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(config, dict):
        raise ConfigError("faults must be a JSON object keyed by endpoint name or '*'")
    unknown = sorted(set(config) - set(ENDPOINTS) - {WILDCARD})
    if unknown:
        raise ConfigError(f"unknown endpoints in faults: {', '.join(unknown)}")
    return {name: _check_rule(name, rule) for name, rule in config.items()}


class FaultBook:
    """The current fault rules; each rule's sequence is a queue consumed one item per request."""

    def __init__(self) -> None:
        self._rules: dict[str, dict[str, Any]] = {}
        self._sequences: dict[str, deque[str]] = {}
        self._lock = threading.Lock()

    def replace(self, config: Any) -> dict[str, dict[str, Any]]:
        rules = validate_faults(config)
        with self._lock:
            self._rules = rules
            self._sequences = {name: deque(rule["sequence"]) for name, rule in rules.items()}
        return self.snapshot()

    def clear(self) -> None:
        self.replace({})

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                name: {**copy.deepcopy(rule), "sequence": list(self._sequences[name])}
                for name, rule in self._rules.items()
            }

    def plan(self, endpoint: str) -> FaultPlan:
        with self._lock:
            name = endpoint if endpoint in self._rules else WILDCARD
            rule = self._rules.get(name)
            if rule is None:
                return FaultPlan()
            queue = self._sequences[name]
            forced = queue.popleft() if queue else None
        outcome = forced if forced is not None else _roll(rule)
        return FaultPlan(
            latency_s=rule["latency_ms"] / 1000,
            before=outcome if outcome in BEFORE_PROCESSING else None,
            after=outcome if outcome in AFTER_PROCESSING else None,
            retry_after=rule["retry_after"],
            hang_seconds=rule["hang_seconds"],
            answer=rule["answer"],
        )


def _roll(rule: dict[str, Any]) -> str:
    if random.random() < rule["error_rate"]:
        return random.choice(("500", "503"))
    if random.random() < rule["rate_429"]:
        return "429"
    if random.random() < rule["hang_rate"]:
        return "hang"
    if random.random() < rule["malformed_rate"]:
        return "malformed"
    return "ok"
