"""Environment of a test run, set before Django's settings load (`-p tests.environment`)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# live_server and Playwright's sync API run the ORM from a thread with an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The test run's Celery messages must never reach a `make run` worker, nor the reverse.
os.environ.setdefault("CELERY_BROKER_FOLDER", str(ROOT / "var" / "test-broker"))
