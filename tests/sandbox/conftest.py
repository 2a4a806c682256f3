"""One sandbox process for the whole session, reset before every test (no Django needed).

These override tests/conftest.py's fixtures of the same names, which need Django's settings.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.testing import SandboxProcess


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


@pytest.fixture
def sandbox(sandbox_process: SandboxProcess) -> SandboxProcess:
    sandbox_process.reset(config=True)
    return sandbox_process
