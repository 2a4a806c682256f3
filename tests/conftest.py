"""Shared fixtures: named users per role, the sandbox carrier as a real process, a real worker."""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User

from portal.models import Profile, Team
from sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent


def _a_cache_of_each_workers_own() -> None:
    """Under pytest-xdist each worker has a test database of its own, so a Redis database of
    its own too: else one worker's cached users, and its clearing, would reach another's."""
    from django.conf import settings
    from django.test.signals import setting_changed

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if settings.SHARED_CACHE and worker.startswith("gw"):
        location = urlsplit(settings.CACHES["default"]["LOCATION"])
        url = location._replace(path=f"/{2 + int(worker[2:])}").geturl()
        settings.CACHES["default"]["LOCATION"] = os.environ["CACHE_URL"] = url
        setting_changed.send(None, setting="CACHES", value=settings.CACHES, enter=True)


_a_cache_of_each_workers_own()
# Planted in every run: tests prove this value never reaches a log, a page or the database.
CANARY_CLIENT_SECRET = f"canary-secret-{uuid.uuid4().hex}"
CARRIER_URL_SETTINGS = (
    "CARRIER_ACCOUNTS_URL",
    "CARRIER_SEARCH_URL",
    "CARRIER_BULK_URL",
    "CARRIER_ORDERS_URL",
)


@pytest.fixture(scope="session")
def sandbox_process():
    """One sandbox carrier for the run, on a free port, with the planted client secret."""
    process = SandboxProcess(env={"SANDBOX_ACCOUNTS_CLIENT_SECRET": CANARY_CLIENT_SECRET})
    process.start()
    yield process
    process.stop()


@pytest.fixture
def sandbox(sandbox_process, settings):
    """The sandbox, reset to its seed, with the portal's settings pointing at it."""
    sandbox_process.reset()
    for name in CARRIER_URL_SETTINGS:
        setattr(settings, name, sandbox_process.url)
    settings.CARRIER_ACCOUNTS_CLIENT_SECRET = CANARY_CLIENT_SECRET
    return sandbox_process


def carrier_environment(sandbox_url: str) -> dict[str, str]:
    """The environment a separate portal process (worker, web) needs to use the sandbox."""
    env = dict.fromkeys(CARRIER_URL_SETTINGS, sandbox_url)
    env["CARRIER_ACCOUNTS_CLIENT_SECRET"] = CANARY_CLIENT_SECRET
    return env


def _make_user(username: str, role: str, team: str | None, **extra) -> User:
    first = username.capitalize()
    user = User.objects.create_user(
        username=username,
        password="correct horse battery staple",
        first_name=first,
        last_name="Tester",
        **extra,
    )
    # get_or_create: transactional tests flush the rows the data migration made.
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    Profile.objects.create(
        user=user,
        team=Team.objects.get_or_create(name=team)[0] if team else None,
        attuid=f"{username[:2]}1234",
    )
    return user


@pytest.fixture
def alice(db) -> User:
    """A sales rep on team Central."""
    return _make_user("alice", "sales_rep", "Central")


@pytest.fixture
def bob(db) -> User:
    """A sales rep on team East."""
    return _make_user("bob", "sales_rep", "East")


@pytest.fixture
def carol(db) -> User:
    """A manager of team Central."""
    return _make_user("carol", "manager", "Central")


@pytest.fixture
def olivia(db) -> User:
    """Ops: works in the admin."""
    return _make_user("olivia", "ops", None, is_staff=True)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def database_url_for_subprocess() -> str:
    """The test database as a DATABASE_URL, for processes started by a test."""
    from django.db import connection

    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return (
        f"postgres://{config['USER']}{password}@{config['HOST']}:{config['PORT']}/{config['NAME']}"
    )


class WorkerProcess:
    """A real Celery worker (with embedded beat) on the test database and the sandbox."""

    # Short waits so retries, leases and the sweeper play out within a test.
    SETTINGS = {
        "WORKER_HEARTBEAT_SECONDS": "1",
        "UPSTREAM_READ_TIMEOUT": "2",
        "SUBMISSION_BACKOFF_BASE_SECONDS": "0.2",
        "SUBMISSION_BACKOFF_CAP_SECONDS": "2",
        "SUBMISSION_LEASE_SECONDS": "5",
        "SUBMISSION_SWEEP_SECONDS": "1",
        "SUBMISSION_SWEEP_GRACE_SECONDS": "2",
    }

    def __init__(self, env: dict[str, str], directory: Path):
        self.env = env
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.directory / f"worker-{self.starts}.log"

    def start(self) -> "WorkerProcess":
        self.starts += 1
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--beat",
                    "--loglevel=INFO",
                    "--concurrency=2",
                    "--without-gossip",
                    "--without-mingle",
                    "--schedule",
                    str(self.directory / f"beat-schedule-{self.starts}"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for_log(self.log_path, "ready", self.process, timeout=30)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children, as a crash would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                # A warm shutdown can wait on retries it holds; the rows are durable anyway.
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            (self.directory / f"worker-{n}.log").read_text() for n in range(1, self.starts + 1)
        )


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, sandbox_process, tmp_path_factory):
    """A real worker for the whole run; tests that need one use transactional_db."""
    with django_db_blocker.unblock():
        database_url = database_url_for_subprocess()
    env = {
        **os.environ,
        **carrier_environment(sandbox_process.url),
        **WorkerProcess.SETTINGS,
        "DATABASE_URL": database_url,
        # Its carrier calls are counted where this run's /metrics reads them.
        "PROMETHEUS_MULTIPROC_DIR": os.environ["PROMETHEUS_MULTIPROC_DIR"],
    }
    worker = WorkerProcess(env, tmp_path_factory.mktemp("worker")).start()
    yield worker
    worker.stop()


def _wait_for_log(path: Path, needle: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in path.read_text():
            return
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{path.read_text()}")
        time.sleep(0.2)
    raise RuntimeError(f"worker not ready after {timeout} s:\n{path.read_text()}")


def wait_until(condition, timeout: float = 30, interval: float = 0.2, message: str = ""):
    """Poll `condition` until it returns something truthy; fail with `message` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s: {message}")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (installed by `make test`)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Chromium is missing: `make test` installs it with apt-get"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def log_in_client(live_server, username: str):
    """A requests session logged in to the live server as `username`, ready to POST forms."""
    import requests

    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy from the environment
    login = f"{live_server.url}/login/"
    session.get(login, timeout=10)
    session.post(
        login,
        data={
            "username": username,
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert "sessionid" in session.cookies, f"{username} could not log in"
    # The token rotates at login: the new one goes with every POST.
    session.get(f"{live_server.url}/", timeout=10)
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def holds_number(text: str, number: str) -> bool:
    """`number` as a number of its own in `text`: not inside a longer run of digits (timings,
    microseconds and ids are long runs that hold any short number sooner or later)."""
    import re

    # Celery's task ids are UUIDs: hex runs like "c86420a" hold a short number between letters.
    text = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "<uuid>", text, flags=re.I)
    return re.search(rf"(?<![0-9]){re.escape(number)}(?![0-9])", text) is not None


# Fixtures that make a test need a browser, a worker, or processes of its own.
_MARKED_BY_FIXTURE = {"page": "browser", "browser": "browser", "celery_worker": "worker"}
# Modules whose tests start processes of their own (make run, child Pythons that measure).
_SLOW_MODULES = {"test_make_run.py", "test_error_pages.py", "test_bulk_memory.py"}


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs: `make test-fast` runs those that need neither a browser
    nor a worker nor processes of their own."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _MARKED_BY_FIXTURE.items():
            if fixture in fixtures:
                item.add_marker(marker)
        if "live_server" in fixtures or item.path.name in _SLOW_MODULES:
            item.add_marker("slow")


@pytest.fixture(autouse=True)
def _seal_log_of_its_own(settings, tmp_path):
    """Each test's database starts empty, so its audit checkpoints start afresh too: a test's
    rolled-back records must not read as a deleted tail to the next test."""
    settings.AUDIT_SEAL_LOG = tmp_path / "audit-seals.jsonl"


@pytest.fixture(autouse=True, scope="session")
def _flush_between_tests():
    """Emptying the test database after a live-server test, made to hold:

    - on SQLite, deleting audit records needs the permit retention uses (the trigger refuses
      them otherwise; PostgreSQL truncates, which row triggers do not see);
    - on PostgreSQL, the session's Celery worker may still be finishing a write the test queued
      (it has no `celery_worker` fixture to wait for), and TRUNCATE's table locks can deadlock
      with its transaction: PostgreSQL then aborts one of the two, so the flush tries again.
    """
    from django.db import OperationalError, connection

    from portal.audit.guard import removal_permitted

    operations = type(connection.ops)
    flush = operations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(5):
            permit = removal_permitted() if self.connection.vendor == "sqlite" else nullcontext()
            try:
                with permit:
                    return flush(self, sql_list)
            except OperationalError as error:
                if "deadlock" not in str(error) or attempt == 4:
                    raise
                time.sleep(0.5)

    operations.execute_sql_flush = execute_sql_flush


@pytest.fixture(autouse=True)
def _cheap_password_hashing(settings):
    """Users are made in most tests: hashing their passwords the production way (PBKDF2, a
    million rounds) would take most of the suite's time. Login tests still check passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _nothing_remembered_from_another_test():
    """A test's database starts empty, so what was cached for an earlier test's rows (its
    users, sessions, lookups: the cache, directory.services.recent_lookups) is gone too."""
    from django.core.cache import cache

    from directory.services import recent_lookups

    recent_lookups.forget()
    cache.clear()
