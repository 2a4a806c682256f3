"""The sandbox's parts wired together: one instance per process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.config import Credentials, RuntimeConfig
from sandbox.faults import FaultBook
from sandbox.milestones import MilestoneScheduler, PushNotifier
from sandbox.stats import Recorder
from sandbox.store import Store


class Sandbox:
    def __init__(
        self,
        state_path: Path,
        credentials: Credentials,
        config: dict[str, Any],
        *,
        verbose: bool = False,
    ) -> None:
        self.store = Store(state_path)
        self.credentials = credentials
        self.config = RuntimeConfig(config)
        self.faults = FaultBook()
        self.recorder = Recorder()
        self.notifier = PushNotifier(self.store, self.config)
        self.scheduler = MilestoneScheduler(self.store, self.config, on_push=self.notifier.poke)
        self.verbose = verbose

    def start(self) -> None:
        self.scheduler.start()
        self.notifier.start()

    def reset(self, *, config: bool = False) -> None:
        """Fresh seed, no faults, zero counters; the runtime config too when asked."""
        self.store.reset()
        self.faults.clear()
        self.recorder.clear()
        if config:
            self.config.restore_initial()

    def close(self) -> None:
        self.scheduler.stop()
        self.notifier.stop()
        self.store.close()
