"""Environment of a test run, set before Django's settings load (`-p tests.environment`)."""

import os
import tempfile

# live_server and Playwright's sync API run the ORM from a thread with an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Each run has its own SQLite test database and broker folder: two runs at once never share
# messages or rows, and a `make run` worker never sees the tests' messages.
_run_dir = tempfile.mkdtemp(prefix="portal-test-")
os.environ.setdefault("CELERY_BROKER_FOLDER", os.path.join(_run_dir, "broker"))
os.environ.setdefault("DATABASE_TEST_NAME", os.path.join(_run_dir, "test-portal.sqlite3"))
# Records the tests make are sealed at once: no append is still committing in a test's
# database a moment after it was made.
os.environ.setdefault("AUDIT_SEAL_SETTLE_SECONDS", "0")
os.environ.setdefault("AUDIT_SEAL_LOG", os.path.join(_run_dir, "audit-seals.jsonl"))
# Each test process counts its metrics afresh, in files of its own (prometheus-client's
# multiprocess mode; its worker gets the same directory): never make run's, nor another xdist
# worker's, whose counts would move this one's series.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(_run_dir, "metrics")
