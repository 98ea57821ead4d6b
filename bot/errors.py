"""One exception hierarchy, so callers can catch Peerline's own failures in one place."""

from __future__ import annotations

from dataclasses import dataclass


class PeerlineError(Exception):
    """Base class for every error Peerline raises on purpose."""


@dataclass(frozen=True)
class ContentProblem:
    """One thing wrong (or worth a look) in a content file, pointing at file and line."""

    file: str
    line: int | None
    message: str
    hint: str = ""
    severity: str = "error"  # "error" blocks loading; "warning" is reported by --strict

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.severity}: {self.message}"
        return f"{text} (fix: {self.hint})" if self.hint else text


class ContentError(PeerlineError):
    """Content could not be loaded; carries every problem found, not just the first."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "content has problems")


class ConfigError(PeerlineError):
    """Settings are missing or invalid; the message says which variable and what to set."""


class StoreUnavailable(PeerlineError):
    """The session store could not be reached; callers keep answering without remembered state."""
