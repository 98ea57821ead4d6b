"""Live reload: load and validate a content root into a new Brain, and swap it in only if all of it is valid.

A broken edit never reaches people: the validator's problems (file, line, fix) go back to whoever asked,
and the content already loaded keeps answering. `watch` reloads when content files are saved.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.brain import Brain
from bot.content.diff import ContentDiff, diff_content
from bot.engine import Engine
from bot.errors import ContentError, ContentProblem
from bot.logs import log_event

log = logging.getLogger(__name__)

CONTENT_FOLDERS = ("intents", "responses", "resources", "substances", "services")
MAX_PROBLEMS_SHOWN = 15
WATCH_DEBOUNCE_MS = 800


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: swapped (with the diff) or refused (with the problems); `version` is now live."""

    ok: bool
    version: str
    diff: ContentDiff | None = None
    problems: tuple[ContentProblem, ...] = field(default=())

    def text(self) -> str:
        """A short report for an admin."""
        if self.ok and self.diff is not None:
            return "Reloaded. " + self.diff.text()
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [
            f"Reload refused: {len(errors)} problem(s). Still serving version {self.version}.",
            *(str(p) for p in errors[:MAX_PROBLEMS_SHOWN]),
        ]
        if len(errors) > MAX_PROBLEMS_SHOWN:
            lines.append(f"... and {len(errors) - MAX_PROBLEMS_SHOWN} more (run `peerline validate`)")
        return "\n".join(lines)


class ContentReloader:
    """Reloads one content root into one Engine; reloads never overlap."""

    def __init__(self, root: Path, engine: Engine, load: Callable[[Path], Brain] = Brain.load) -> None:
        self.root = root
        self.engine = engine
        self.load = load  # a seam: tests may hold a load back to overlap it with traffic
        self._lock = asyncio.Lock()

    @property
    def version(self) -> str:
        return self.engine.brain.content.version

    async def reload(self) -> ReloadResult:
        """Load from disk (in a thread, so updates keep flowing), validate, and swap if fully valid."""
        async with self._lock:
            old = self.engine.brain
            try:
                new = await asyncio.to_thread(self.load, self.root)
            except ContentError as exc:
                log_event(log, "content_reload_refused", logging.WARNING, problems=len(exc.problems))
                return ReloadResult(False, old.content.version, problems=tuple(exc.problems))
            diff = diff_content(old.content, new.content)
            self.engine.reload(new)  # one assignment: a message uses the old or the new Brain, never a mix
            log_event(log, "content_reloaded", old=diff.old_version, new=diff.new_version)
            return ReloadResult(True, new.content.version, diff)


def content_folders(root: Path) -> list[Path]:
    """The folders holding content under `root` (optional ones only if present)."""
    return [root / name for name in CONTENT_FOLDERS if (root / name).is_dir()]


def _is_content_file(change: object, path: str) -> bool:
    return path.endswith((".yml", ".yaml"))


async def watch(
    reloader: ContentReloader,
    stop: asyncio.Event,
    on_result: Callable[[ReloadResult], Awaitable[None]] | None = None,
    debounce_ms: int = WATCH_DEBOUNCE_MS,
) -> None:
    """Reload whenever YAML under the content folders changes (debounced, so one save is one reload)."""
    from watchfiles import awatch

    folders = content_folders(reloader.root)
    log_event(log, "content_watch_started", folders=len(folders))
    async for _changes in awatch(
        *folders, watch_filter=_is_content_file, debounce=debounce_ms, stop_event=stop, step=50
    ):
        result = await reloader.reload()
        if on_result is not None:
            await on_result(result)
