"""Prompt, clean stops for the long-running processes on SIGTERM and SIGINT.

A signal that arrives while the process waits stops it at once; one that arrives during
a unit of work (a scheduler tick, bounded by Redis socket timeouts) lets that unit finish
first, and a second signal stops it at once even then.
"""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager


class StopRequested(SystemExit):
    """Raised by the signal handler to leave the loop (``finally`` blocks still run)."""


class Shutdown:
    def __init__(self):
        self.requested = False
        self._busy = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame):
        if self._busy and not self.requested:
            self.requested = True  # finish this unit of work, then stop
            return
        self.requested = True
        raise StopRequested(0)

    @contextmanager
    def busy(self):
        """A unit of work that a first signal lets finish."""
        self._busy = True
        try:
            yield
        finally:
            self._busy = False
        if self.requested:
            raise StopRequested(0)

    def sleep(self, seconds: float) -> None:
        if self.requested:
            raise StopRequested(0)
        time.sleep(seconds)
