"""The ids that tie a request's log lines, its carrier calls and the tasks it enqueued together."""

import contextvars
import re
import uuid

# The request being answered (web), or the one that enqueued the running task (worker).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("portal_request_id", default="")
task_id: contextvars.ContextVar[str] = contextvars.ContextVar("portal_task_id", default="")

# An incoming X-Request-ID is kept only if it is safe to log and echo: no spaces, no markup, and
# at least one letter, so a phone number sent as an id is never logged unmasked.
SAFE_REQUEST_ID = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9._:=-]{8,64}")


def request_id_from(header: str | None) -> str:
    """The caller's id if it is a safe token, else a new one (a UUID, as Celery's task ids)."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return str(uuid.uuid4())
