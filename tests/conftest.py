"""Shared fixtures: named users per role, the sandbox carrier as a real process, a real worker."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from portal.models import Profile, Team
from sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, sandbox_process, tmp_path_factory):
    """A real Celery worker process on the test database and the sandbox; logs to a file."""
    with django_db_blocker.unblock():
        database_url = database_url_for_subprocess()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        **carrier_environment(sandbox_process.url),
        "DATABASE_URL": database_url,
        "WORKER_HEARTBEAT_SECONDS": "1",
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
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
                str(log_path.parent / "beat-schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    _wait_for_log(log_path, "ready", process, timeout=30)
    process.log_path = log_path
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_for_log(path: Path, needle: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in path.read_text():
            return
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{path.read_text()}")
        time.sleep(0.2)
    raise RuntimeError(f"worker not ready after {timeout} s:\n{path.read_text()}")


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
