"""The real Redis the tests use (database 15 is theirs), and a clear failure when it is missing."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

REDIS_URL = "redis://127.0.0.1:6379/15"


async def reachable_redis() -> Redis:
    """A client for the test database; fails (never skips) when Redis does not answer."""
    admin = Redis.from_url(REDIS_URL)
    try:
        await admin.ping()
        return admin
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    await admin.aclose()
    pytest.fail(
        f"Redis is not reachable at {REDIS_URL} ({problem}). These tests need a real Redis: "
        "start one locally (`redis-server`) or run `bash .ci/run`, which starts one.",
        pytrace=False,
    )
