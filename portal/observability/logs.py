"""LOG_FORMAT=json: one JSON object a line, stamped with the request id and the task id.

A small formatter on the standard library rather than python-json-logger: the fields are few
and fixed, and only the ones named below leave the process (never a record's other extras, such
as Django's `request`, whose repr carries the query string).
"""

import json
import logging
from datetime import UTC, datetime

from portal.observability import ids

# The structured fields a call site may pass with `extra=`: request lines and carrier calls.
FIELDS = (
    "method",
    "view",
    "status",
    "duration_ms",
    "user_id",
    "api",
    "action",
    "outcome",
    "attempt",
    "trace_id",
    "idempotency_key",
)


class RequestContextFilter(logging.Filter):
    """Stamps every record with the ids of the request or task that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = ids.request_id.get()
        record.task_id = ids.task_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "task_id", *FIELDS):
            value = getattr(record, name, None)
            if value not in (None, ""):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_request(method: str, view: str, status: int, duration_ms: int, user_id) -> None:
    """The request's one line (INFO; settings keep it quiet in the plain format)."""
    logging.getLogger("portal.requests").info(
        "%s %s -> %s in %d ms",
        method,
        view,
        status,
        duration_ms,
        extra={
            "method": method,
            "view": view,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": user_id,
        },
    )


def logging_config(log_format: str, *, level: str) -> dict:
    """Django's LOGGING: every line through the console, in the plain or the JSON format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "portal.observability.logs.JsonFormatter"},
        },
        # Stamps each line with the request id and task id (the json format writes them).
        "filters": {"ids": {"()": "portal.observability.logs.RequestContextFilter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["ids"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # urllib3 logs each connection; the upstream layer logs what matters, redacted.
            "urllib3": {"level": "WARNING"},
            # The filesystem transport has no host; kombu says so on every publish.
            "kombu.connection": {"level": "ERROR"},
            # django-axes logs every login at INFO; lockouts are WARNING and stay.
            "axes": {"level": "WARNING"},
            # A line per request: in the plain format gunicorn's access log already says it.
            "portal.requests": {"level": "INFO" if log_format == "json" else "WARNING"},
        },
    }
