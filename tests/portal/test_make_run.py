"""`make run` (bin/run under supervisord), started for real on free ports with a var dir of its own.

A process that dies is started again within 10 s while the others keep serving; Ctrl-C stops
every process within 10 s. DEBUG is off with a secret key kept in var/, and SANDBOX_PORT moves
the sandbox and the portal's carrier URLs together. One run serves every test of this module,
in order; the last one stops it.
"""

import contextlib
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xmlrpc.client
from pathlib import Path

import pytest
from supervisor.xmlrpc import SupervisorTransport

from sandbox.testing import free_port
from tests.conftest import ROOT

START_TIMEOUT_S = 120  # a fresh var dir: migrate and collectstatic first
RESTART_WITHIN_S = 10
STOP_WITHIN_S = 10
# Loopback only: an HTTP(S)_PROXY in the environment must not see these calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
HEARTBEAT_RECEIVED = re.compile(r"portal\.tasks\.record_worker_heartbeat\[[0-9a-f-]+\] received")
CARRIER_URL_SETTINGS = (
    "CARRIER_ACCOUNTS_URL",
    "CARRIER_SEARCH_URL",
    "CARRIER_BULK_URL",
    "CARRIER_ORDERS_URL",
)


def get(url: str, timeout: float = 3) -> tuple[int, dict[str, str], str]:
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def answers(url: str) -> bool:
    try:
        return get(url, timeout=2)[0] == 200
    except OSError:
        return False


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


class MakeRun:
    """bin/run in a session of its own, as a terminal's foreground job."""

    def __init__(self, directory: Path, name: str = "make-run"):
        self.var_dir = (directory / "var").resolve()
        self.port, self.sandbox_port = free_port(), free_port()
        self.web_url = f"http://127.0.0.1:{self.port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.directory = directory
        self.log_path = directory / f"{name}.log"
        # Nothing of the test run's own environment (its database, broker folder, DEBUG): the
        # embedded defaults, as on a fresh machine.
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYENV_ROOT")
        self.env = {name: os.environ[name] for name in keep if name in os.environ}
        self.env |= {
            "PORTAL_VAR_DIR": str(self.var_dir),
            "PORT": str(self.port),
            "SANDBOX_PORT": str(self.sandbox_port),
            # Beat asks the worker for a heartbeat every second (the stop tests block one).
            "WORKER_HEARTBEAT_SECONDS": "1",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "MakeRun":
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [str(ROOT / "bin" / "run")],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (
            answers(f"{self.web_url}/login/")
            and answers(self.sandbox_health)
            and self.worker_is_ready()
        ):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run did not come up:\n{self.log()}")
            time.sleep(0.3)
        return self

    def worker_is_ready(self) -> bool:
        """The last worker started has connected to the broker (its banner ends "ready.")."""
        return " ready." in self.log(tail=None).rsplit("spawned: 'worker'", 1)[-1]

    @property
    def sandbox_health(self) -> str:
        return f"{self.sandbox_url}/_sandbox/health"

    def log(self, tail: int | None = 6000) -> str:
        text = self.log_path.read_text()
        return text[-tail:] if tail else text

    def supervisor(self):
        transport = SupervisorTransport(None, None, f"unix://{self.var_dir}/supervisor.sock")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def info(self, program: str) -> dict:
        return self.supervisor().getProcessInfo(f"portal:{program}")

    def processes(self) -> list[int]:
        """Every process of this run, orphans included: all inherit its PORTAL_VAR_DIR."""
        marker = f"PORTAL_VAR_DIR={self.var_dir}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def kill_everything(self) -> None:
        """Whatever is left, even if supervisord itself is gone: a failed test leaves nothing."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_WITHIN_S + 5)
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    make_run = MakeRun(tmp_path_factory.mktemp("make-run"))
    try:
        yield make_run.start()
    finally:
        make_run.kill_everything()


@pytest.fixture
def next_run(run):
    """make run started again on the same var dir (migrated, static files collected)."""
    run.kill_everything()
    make_run = MakeRun(run.directory, name="next-run")
    try:
        yield make_run.start()
    finally:
        make_run.kill_everything()


def settings_of(env: dict[str, str], *names: str) -> dict:
    """The settings a process with this environment has."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: str(getattr(settings, n)) for n in {names!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_404_is_the_portals_page_with_debug_off(run):
    status, _, body = get(f"{run.web_url}/no-such-page/")

    assert status == 404
    assert "<h1>Not found</h1>" in body
    assert '<a class="brand" href="/">Partner Sales Portal</a>' in body
    # Django's technical 404 lists the URLconf's patterns; none of it may show.
    for technical in ("URLconf", "urlpatterns", "DEBUG = True", "admin/status/", "Traceback"):
        assert technical not in body
    assert settings_of(environ_of(run.info("web")["pid"]), "DEBUG") == {"DEBUG": "False"}


def test_the_readmes_demo_users_can_log_in(run):
    """make run starts the portal with the README's demo users, DEBUG off or not."""
    import requests

    session = requests.Session()
    session.trust_env = False
    login = f"{run.web_url}/login/"
    session.get(login, timeout=5)
    answer = session.post(
        login,
        data={
            "username": "alice",
            "password": "demo-pass-2026",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )

    assert answer.status_code == 200 and "sessionid" in session.cookies
    assert "/login/" not in answer.url


def test_a_fresh_portal_finds_the_demo_businesses_subscribers_masked(run):
    """The demo provider's records are loaded and beat walks the carrier's book as it starts:
    a rep finds Texas Pecan Growers and its subscribers within seconds, numbers masked."""
    import requests

    session = requests.Session()
    session.trust_env = False
    login = f"{run.web_url}/login/"
    session.get(login, timeout=5)
    credentials = {"username": "alice", "password": "demo-pass-2026"}
    session.post(login, data={**credentials, "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    found = session.get(f"{run.web_url}/directory/search/", params={"q": "pecna"}, timeout=10)
    link = re.search(r'href="(/directory/\d+/)"><strong>Texas Pecan Growers LLC<', found.text)
    assert link, found.text

    deadline = time.monotonic() + 60
    while "ROSA MENDEZ" not in (page := session.get(run.web_url + link.group(1)).text):
        assert time.monotonic() < deadline, page
        time.sleep(1)
    assert 'Start care order<span class="visually-hidden"> for the phone ending 0142' in page
    assert "sku83499264306" in page  # the price book's SKU, offered as an item to remove
    assert not any(number in page for number in ("7135550142", "7135552718", "8325550466"))


def test_static_files_are_whitenoises_hashed_copies(run):
    _, _, page = get(f"{run.web_url}/login/")
    stylesheet = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page

    status, headers, css = get(run.web_url + stylesheet.group(1))

    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]  # whitenoise, for a file named by its hash
    assert ".site-header" in css


def test_the_secret_key_is_made_once_and_kept_private(run):
    key_file = run.var_dir / "secret-key"
    key = key_file.read_text().strip()

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key) >= 50
    web = environ_of(run.info("web")["pid"])
    assert web["DJANGO_SECRET_KEY_FILE"] == str(key_file)
    # In no process's environment, and the same key the next time make run starts.
    for pid in run.processes():
        assert key not in Path(f"/proc/{pid}/environ").read_text()
    subprocess.run([ROOT / "bin" / "run-env", "true"], env=run.env, check=True, timeout=60)
    assert key_file.read_text().strip() == key


def test_sandbox_port_moves_the_sandbox_and_the_portals_carrier_urls(run):
    web = environ_of(run.info("web")["pid"])
    worker = environ_of(run.info("worker")["pid"])
    sandbox = environ_of(run.info("sandbox")["pid"])

    for env in (web, worker):
        urls = settings_of(env, *CARRIER_URL_SETTINGS)
        assert set(urls.values()) == {run.sandbox_url}, urls
    assert answers(run.sandbox_health)
    _, _, config = get(f"{run.sandbox_url}/_sandbox/config")
    assert json.loads(config)["notify_url"] == f"{run.web_url}/orders/notifications/"
    # The portal calls the sandbox with the credentials it checks and verifies its pushes with
    # the secret it signs them with; none of them a settings default (DEBUG is off).
    for portal, carrier in [
        ("CARRIER_ACCOUNTS_CLIENT_ID", "SANDBOX_ACCOUNTS_CLIENT_ID"),
        ("CARRIER_ACCOUNTS_CLIENT_SECRET", "SANDBOX_ACCOUNTS_CLIENT_SECRET"),
        ("CARRIER_ORDERS_CLIENT_ID", "SANDBOX_ORDERS_CLIENT_ID"),
        ("CARRIER_NOTIFY_SECRET", "SANDBOX_NOTIFY_SECRET"),
    ]:
        assert web[portal] == sandbox[carrier]
    assert web["CARRIER_NOTIFY_SECRET"] != "sandbox-notify-secret"  # made for this var dir
    assert stat.S_IMODE((run.var_dir / "notify-secret").stat().st_mode) == 0o600


def kill_and_wait_for_restart(run: MakeRun, program: str, still_serving: list[str]) -> None:
    old = run.info(program)["pid"]
    os.kill(old, signal.SIGKILL)
    killed_at = time.monotonic()
    while True:
        for url in still_serving:
            assert answers(url), f"{url} stopped answering while {program} restarted"
        info = run.info(program)
        if info["pid"] not in (0, old) and info["statename"] in ("STARTING", "RUNNING"):
            break
        assert time.monotonic() - killed_at < RESTART_WITHIN_S, f"{program}: {info}\n{run.log()}"
        time.sleep(0.2)


def test_a_killed_worker_is_restarted_while_web_and_sandbox_serve(run):
    kill_and_wait_for_restart(run, "worker", [f"{run.web_url}/login/", run.sandbox_health])

    # The new worker takes work again: it connects to the broker and says so.
    deadline = time.monotonic() + 30
    while not run.worker_is_ready():
        assert time.monotonic() < deadline, run.log()
        time.sleep(0.3)


def test_a_killed_sandbox_is_restarted_while_web_serves(run):
    kill_and_wait_for_restart(run, "sandbox", [f"{run.web_url}/login/"])

    deadline = time.monotonic() + RESTART_WITHIN_S
    while not answers(run.sandbox_health):
        assert time.monotonic() < deadline, run.log()
        time.sleep(0.2)


def test_a_killed_web_is_restarted_while_the_sandbox_serves(run):
    killed_at = time.monotonic()
    kill_and_wait_for_restart(run, "web", [run.sandbox_health])

    while not answers(f"{run.web_url}/login/"):
        assert time.monotonic() - killed_at < RESTART_WITHIN_S, run.log()
        time.sleep(0.2)


@contextlib.contextmanager
def a_stuck_task(run: MakeRun):
    """The worker busy with a task that does not end by itself: the heartbeat waits on the
    database, which this test holds locked (SQLite waits 30 s). A warm shutdown waits for it."""
    database = sqlite3.connect(run.var_dir / "portal.sqlite3", isolation_level=None, timeout=10)
    try:
        database.execute("BEGIN IMMEDIATE")
        locked_at = len(run.log(tail=None))
        # Beat's first heartbeat after a (re)start can take a while on a loaded machine; the
        # task then waits on the lock for up to 30 s, so 25 s still finds it stuck.
        deadline = time.monotonic() + 25
        while not HEARTBEAT_RECEIVED.search(run.log(tail=None)[locked_at:]):
            assert time.monotonic() < deadline, run.log()
            time.sleep(0.2)
        yield
    finally:
        database.close()


def assert_every_process_ends(run: MakeRun, signalled_at: float) -> None:
    while run.processes() or run.process.poll() is None:
        elapsed = time.monotonic() - signalled_at
        assert elapsed < STOP_WITHIN_S, f"running after {elapsed:.1f} s: {run.processes()}"
        time.sleep(0.1)
    assert not answers(f"{run.web_url}/login/")
    assert not answers(run.sandbox_health)


def test_ctrl_c_stops_every_process_within_10_seconds_even_with_a_task_stuck(run):
    children = run.processes()
    assert len(children) >= 6, children  # supervisord, sandbox, worker (+ pool), beat, web (+ 2)

    with a_stuck_task(run):
        os.killpg(run.process.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground job
        assert_every_process_ends(run, signalled_at=time.monotonic())


def test_sigterm_stops_every_process_within_10_seconds_even_with_a_task_stuck(next_run):
    with a_stuck_task(next_run):
        # As `kill` or a service manager sends it: to make run alone, not its process group.
        next_run.process.send_signal(signal.SIGTERM)
        assert_every_process_ends(next_run, signalled_at=time.monotonic())
