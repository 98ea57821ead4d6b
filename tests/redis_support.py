"""The real Redis the tests use (database 15 is theirs), and a clear failure when it is missing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

# PEERLINE_TEST_REDIS_URL lets two checkouts run their suites side by side on other databases.
REDIS_URL = os.environ.get("PEERLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


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


class PrivateRedis:
    """A redis-server of the test's own on a free loopback port, to stop and restart at will.

    Nothing is persisted (no RDB, no AOF), so a restart starts empty; the shared Redis is never touched.
    """

    def __init__(self, directory: Path, port: int, persistence: Sequence[str] = ()) -> None:
        self.directory = directory
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        # e.g. docker-compose.yml's own flags; by default nothing is written to disk
        self.persistence = list(persistence) or ["--save", "", "--appendonly", "no"]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        assert self.process is None, "already running"
        args = ["--port", str(self.port), "--bind", "127.0.0.1", *self.persistence]
        self.process = subprocess.Popen(
            ["redis-server", *args, "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if await client.ping():
                        return
                except (RedisConnectionError, OSError):
                    if self.process.poll() is not None:
                        raise RuntimeError(f"redis-server on port {self.port} exited at start") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not answer on port {self.port} in {timeout}s")
                await asyncio.sleep(0.02)
        finally:
            await client.aclose()

    def black_hole(self) -> None:
        """Freeze the server (SIGSTOP): connections are accepted by the kernel but nothing is answered."""
        assert self.process is not None, "not running"
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Undo `black_hole` (SIGCONT): the server answers again, with everything it held."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM) and wait for it to exit."""
        if self.process is None:
            return
        self.thaw()  # a frozen server would never act on the SIGTERM
        self.process.terminate()
        self.process.wait(timeout)
        self.process = None
