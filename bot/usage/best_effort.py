"""Redis writes that must never break a conversation: failures are logged once, then ignored until fixed."""

from __future__ import annotations

import logging

from bot.logs import log_event

log = logging.getLogger(__name__)


class BestEffort:
    """Remembers whether the last write failed, so a Redis outage gives one warning, not one per message."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failing = False

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            log_event(log, "redis_unavailable", logging.WARNING, part=self.what, error=type(exc).__name__)

    def succeeded(self) -> None:
        if self.failing:
            self.failing = False
            log_event(log, "redis_recovered", part=self.what)
