"""The session store interface every backend implements, and the per-user key kinds it manages."""

from __future__ import annotations

import json
import logging
import re
from typing import Literal, Protocol, get_args

from bot.session import Session

log = logging.getLogger(__name__)

UserKeyKind = Literal[
    "session", "flood", "handoff", "blocked", "feedback", "group", "topic_cooldown", "crisis_cooldown"
]
"""Every kind of thing a store may hold about one user; add new kinds here and `forget` covers them."""

USER_KEY_KINDS: tuple[UserKeyKind, ...] = get_args(UserKeyKind)

# Store keys come from `KeyRing.key` (hex); braces or colons would break the Redis key schema.
_USER_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


class SessionStore(Protocol):
    """Where sessions and per-user counters live; `user` is always a `KeyRing.key`, never a raw id.

    Every method except `ping` and `close` raises `StoreUnavailable` when the backend can't be reached.
    """

    async def load(self, user: str) -> Session | None:
        """The user's session, or None if there is none (never seen, expired or forgotten)."""
        ...

    async def save(self, user: str, session: Session) -> None:
        """Store the session and (re)start its time to live."""
        ...

    async def forget(self, user: str) -> None:
        """Delete every key of every kind in `USER_KEY_KINDS` about the user."""
        ...

    async def count_message(self, user: str, window_seconds: int) -> int:
        """Count one message and return how many the user sent in the current fixed window."""
        ...

    async def load_and_count(self, user: str, window_seconds: int) -> tuple[Session | None, int]:
        """`load` and `count_message` together: what every incoming message needs, in one round trip."""
        ...

    async def ping(self) -> bool:
        """True if the backend answers; never raises."""
        ...

    async def close(self) -> None:
        """Release connections; safe to call more than once."""
        ...


def check_user(user: str) -> str:
    """The user key unchanged, or ValueError if it could not be a `KeyRing.key`."""
    if not _USER_RE.fullmatch(user):
        raise ValueError("user must be a store key from KeyRing.key (letters, digits, '-' or '_')")
    return user


def check_window(window_seconds: int) -> int:
    """The flood window unchanged, or ValueError if it is not a positive whole number of seconds."""
    if isinstance(window_seconds, bool) or not isinstance(window_seconds, int) or window_seconds < 1:
        raise ValueError(f"window_seconds must be a positive int, got {window_seconds!r}")
    return window_seconds


def check_ttl(ttl_seconds: int) -> int:
    """The session time to live unchanged, or ValueError if it is not a positive whole number of seconds."""
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds < 1:
        raise ValueError(f"ttl_seconds must be a positive int, got {ttl_seconds!r}")
    return ttl_seconds


def encode_session(session: Session) -> str:
    """Compact JSON of `Session.to_dict`, the one stored form shared by every backend."""
    return json.dumps(session.to_dict(), separators=(",", ":"), ensure_ascii=False)


def decode_session(raw: str | bytes) -> Session | None:
    """The session in a stored value, or None (logged, without the user) if the value is unreadable."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        log.warning("event=session_unreadable action=treated_as_new")
        return None
    try:
        return Session.from_dict(data)
    except (TypeError, ValueError):
        log.warning("event=session_unreadable action=treated_as_new")
        return None
