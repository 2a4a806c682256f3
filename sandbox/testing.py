"""Run the sandbox as a child process from tests and benchmarks (standard library only).

with SandboxProcess() as sandbox:
    sandbox.set_faults({"lookup": {"sequence": ["500", "ok"]}})
    ... point the client at sandbox.url ...
    assert sandbox.stats()["lookup"]["requests"] == 2
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
# Loopback only: an HTTP(S)_PROXY in the environment must not see these calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SandboxProcess:
    def __init__(
        self,
        port: int | None = None,
        state_path: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Removed by close(), or at interpreter exit when only stop() was called.
        self._temp_dir = None if state_path else tempfile.TemporaryDirectory(prefix="sandbox-")
        self.state_path = state_path or os.path.join(self._temp_dir.name, "sandbox.sqlite3")
        self.env = dict(env or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        # Config set through set_config() is re-applied after restart(); faults are not.
        self._config: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SandboxProcess:
        if self._process is not None:
            return self
        command = [sys.executable, "-m", "sandbox", "--port", str(self.port)]
        command += ["--state", self.state_path]
        if self._stderr is not None:
            self._stderr.close()
        # A file, not a pipe: a chatty child can never block on a full pipe nobody reads.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        self._wait_until_healthy()
        if self._config:
            self._call("POST", "/_sandbox/config", self._config)
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"sandbox exited on start:\n{self.stderr_text()}")
            try:
                if self._call("GET", "/_sandbox/health", timeout=1.0).get("ok"):
                    return
            except (OSError, ValueError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sandbox not healthy after {START_TIMEOUT_S} s:\n{self.stderr_text()}")

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> SandboxProcess:
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop, and delete the state file if this object made it up."""
        self.stop()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._temp_dir is not None:
            self._temp_dir.cleanup()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- control API -------------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: Any = None, timeout: float = 10.0) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise RuntimeError(f"{method} {path} -> {error.code}: {detail}") from None

    def reset(self, config: bool = False) -> None:
        if config:
            self._config = {}
        self._call("POST", "/_sandbox/reset", {"config": config})

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/_sandbox/faults", faults)

    def set_config(self, **config: Any) -> dict[str, Any]:
        answer = self._call("POST", "/_sandbox/config", config)
        self._config.update(config)
        return answer

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/config")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/stats")

    def requests(self, endpoint: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query = {"limit": str(limit)} | ({"endpoint": endpoint} if endpoint else {})
        return self._call("GET", "/_sandbox/requests?" + urllib.parse.urlencode(query))
