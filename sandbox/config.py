"""Credentials (fixed when the process starts) and the runtime config (changeable over HTTP)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_NOTIFY_SECRET = "sandbox-notify-secret"
CONFIG_KEYS = ("notify_url", "notify_secret", "milestone_delays", "fail_skus", "order_fail_rate")


class ConfigError(ValueError):
    """A config or fault document the sandbox cannot accept (answered as 400)."""


@dataclass(frozen=True)
class Credentials:
    accounts_client_id: str = "sandbox-client"
    accounts_client_secret: str = "sandbox-secret"
    orders_client_id: str = "sandbox-orders"
    # Empty means no bearer token is required on care order calls.
    orders_token: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        defaults = cls()
        return cls(
            accounts_client_id=env.get("SANDBOX_ACCOUNTS_CLIENT_ID", defaults.accounts_client_id),
            accounts_client_secret=env.get(
                "SANDBOX_ACCOUNTS_CLIENT_SECRET", defaults.accounts_client_secret
            ),
            orders_client_id=env.get("SANDBOX_ORDERS_CLIENT_ID", defaults.orders_client_id),
            orders_token=env.get("SANDBOX_ORDERS_TOKEN", defaults.orders_token),
        )


def config_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "notify_url": env.get("SANDBOX_NOTIFY_URL") or None,
        "notify_secret": env.get("SANDBOX_NOTIFY_SECRET") or DEFAULT_NOTIFY_SECRET,
        "milestone_delays": [1.0, 2.0],
        "fail_skus": [],
        "order_fail_rate": 0.0,
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_notify_url(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError("notify_url must be an http(s) URL or null")
    return value


def _check_delays(value: Any) -> list[float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(_is_number(v) and v >= 0 for v in value)
    ):
        raise ConfigError("milestone_delays must be a list of two numbers >= 0")
    return [float(v) for v in value]


def _check_fail_skus(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("fail_skus must be a list of strings")
    return list(value)


def _check_fail_rate(value: Any) -> float:
    if not _is_number(value) or not 0 <= value <= 1:
        raise ConfigError("order_fail_rate must be a number from 0 to 1")
    return float(value)


def _check_secret(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("notify_secret must be a non-empty string")
    return value


_CHECKS = {
    "notify_url": _check_notify_url,
    "notify_secret": _check_secret,
    "milestone_delays": _check_delays,
    "fail_skus": _check_fail_skus,
    "order_fail_rate": _check_fail_rate,
}


def validate_config_patch(patch: Any) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise ConfigError("config must be a JSON object")
    unknown = sorted(set(patch) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
    return {key: _CHECKS[key](value) for key, value in patch.items()}


class RuntimeConfig:
    """The config tests change at run time; reset can bring back the start-up values."""

    def __init__(self, initial: dict[str, Any]) -> None:
        self._initial = validate_config_patch(initial)
        self._current = copy.deepcopy(self._initial)
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._current)

    def merge(self, patch: Any) -> dict[str, Any]:
        checked = validate_config_patch(patch)
        with self._lock:
            self._current.update(checked)
            return copy.deepcopy(self._current)

    def restore_initial(self) -> None:
        with self._lock:
            self._current = copy.deepcopy(self._initial)
