"""The one seam the Dialogue and the desk report usage through: Redis statistics, metrics, or both.

`UsageStats` (daily counts in Redis) and `BotMetrics` (Prometheus, this process only) both satisfy
`UsageRecorder`; `Recorders` passes each record to several. Every method must never raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class UsageRecorder(Protocol):
    """Counts what happened, never who it happened to."""

    async def record_update(self, intent: str | None, fallback: bool, crisis: bool) -> None: ...

    async def record_handoff_requested(self) -> None: ...

    async def record_handoff_claimed(self, wait_seconds: float) -> None: ...

    async def record_feedback(self, helpful: bool) -> None: ...


class Recorders:
    """Passes every record to each recorder in turn (each already swallows its own failures)."""

    def __init__(self, recorders: Sequence[UsageRecorder]) -> None:
        self.recorders = tuple(recorders)

    async def record_update(self, intent: str | None, fallback: bool, crisis: bool) -> None:
        for recorder in self.recorders:
            await recorder.record_update(intent, fallback, crisis)

    async def record_handoff_requested(self) -> None:
        for recorder in self.recorders:
            await recorder.record_handoff_requested()

    async def record_handoff_claimed(self, wait_seconds: float) -> None:
        for recorder in self.recorders:
            await recorder.record_handoff_claimed(wait_seconds)

    async def record_feedback(self, helpful: bool) -> None:
        for recorder in self.recorders:
            await recorder.record_feedback(helpful)
