"""Helpers for the observability tests: reading /metrics, and the web under gunicorn."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT

METRICS_TOKEN = "metrics-token-for-tests-0b6f"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, by its name and labels, as Prometheus's own parser reads it."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    """One sample's value; a series not there yet counts as 0."""
    return scraped.get((name, frozenset(labels.items())), 0.0)


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def loopback() -> requests.Session:
    """A session for this machine's servers: no proxy from the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebProcess:
    """The portal under gunicorn with two workers, as make run serves it."""

    def __init__(self, env: dict[str, str], directory: Path):
        self.env = env
        self.log_path = directory / "web.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "WebProcess":
        command = [sys.executable, "-m", "gunicorn", "portal.wsgi"]
        command += ["--bind", self.url.removeprefix("http://"), "--workers", "2"]
        command += ["--worker-class", "gthread", "--threads", "4"]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not come up:\n{self.log()}")
            time.sleep(0.2)
        return self

    def _answers(self) -> bool:
        try:
            return loopback().get(f"{self.url}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text()
