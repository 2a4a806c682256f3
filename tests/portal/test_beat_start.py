"""Beat and the worker start while another process holds SQLite's write lock: Celery's Django
fixup ran Django's system checks at start, and the JSONField check opens a transaction, which
with IMMEDIATE transactions waits on the lock (found when a `make run` test held it)."""

import os
import sqlite3
import subprocess
import time

from tests.conftest import ROOT

STARTED_WITHIN_S = 15


def test_beat_starts_while_the_database_is_write_locked(tmp_path):
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env["PORTAL_VAR_DIR"] = str(tmp_path)  # the embedded defaults: SQLite, filesystem broker
    python = str(ROOT / ".venv/bin/python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    database = sqlite3.connect(tmp_path / "portal.sqlite3", isolation_level=None)
    database.execute("BEGIN IMMEDIATE")
    log = tmp_path / "beat.log"
    with open(log, "w") as out:
        beat = subprocess.Popen(
            [str(ROOT / ".venv/bin/celery"), "-A", "portal", "beat", "--loglevel", "INFO",
             "--schedule", str(tmp_path / "schedule")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTED_WITHIN_S
        while "beat: Starting..." not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        beat.terminate()
        beat.wait(timeout=20)
        database.close()
