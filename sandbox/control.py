"""The /_sandbox/* control endpoints: health, faults, stats, request log, config, reset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.api import ApiError, ApiRequest, ApiResponse, json_response
from sandbox.config import ConfigError
from sandbox.faults import ENDPOINTS

if TYPE_CHECKING:
    from sandbox.app import Sandbox

DEFAULT_LOG_LIMIT = 50


def health(app: Sandbox, request: ApiRequest) -> ApiResponse:
    return json_response(200, {"ok": True})


def get_faults(app: Sandbox, request: ApiRequest) -> ApiResponse:
    return json_response(200, app.faults.snapshot())


def replace_faults(app: Sandbox, request: ApiRequest) -> ApiResponse:
    try:
        return json_response(200, app.faults.replace(request.json_body()))
    except ConfigError as error:
        raise ApiError(400, str(error)) from None


def get_stats(app: Sandbox, request: ApiRequest) -> ApiResponse:
    return json_response(200, app.recorder.stats())


def recent_requests(app: Sandbox, request: ApiRequest) -> ApiResponse:
    endpoint = (request.query.get("endpoint") or [None])[0] or None
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ApiError(400, f"endpoint must be one of {', '.join(ENDPOINTS)}")
    try:
        limit = int((request.query.get("limit") or [DEFAULT_LOG_LIMIT])[0])
    except ValueError:
        raise ApiError(400, "limit must be an integer") from None
    return json_response(200, app.recorder.recent(endpoint, limit))


def _shown(config: dict) -> dict:
    """The config as answered: the push secret is never sent back, only whether it is set."""
    return {**config, "notify_secret": "[set]" if config.get("notify_secret") else None}


def get_config(app: Sandbox, request: ApiRequest) -> ApiResponse:
    return json_response(200, _shown(app.config.snapshot()))


def merge_config(app: Sandbox, request: ApiRequest) -> ApiResponse:
    try:
        return json_response(200, _shown(app.config.merge(request.json_body())))
    except ConfigError as error:
        raise ApiError(400, str(error)) from None


def reset(app: Sandbox, request: ApiRequest) -> ApiResponse:
    options = request.json_object() if request.raw_body.strip() else {}
    app.reset(config=bool(options.get("config")))
    return json_response(200, {"ok": True})
