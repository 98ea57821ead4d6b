"""`peerline run --webhook --workers N`: N bot processes, one port each, sharing Redis.

Worker i is the ordinary `peerline run --webhook` with WEBHOOK_PORT+i (and PEERLINE_METRICS_PORT+i), so a
reverse proxy spreads Telegram's POSTs over the ports (the nginx example in docs/operators.md). One port per
worker, not SO_REUSEPORT: PTB's webhook server binds its own socket and offers no reuse-port option, and
separate ports let the proxy health-check each worker. Any worker can serve any update, because every bit
of conversation and handoff state is in Redis; each sets the same webhook URL, which is idempotent.

The parent only supervises: it forwards SIGINT/SIGTERM, and when one worker dies it stops the others and
exits with that worker's code, so the container or service manager restarts the whole set.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from bot.config import Settings
from bot.errors import ConfigError
from bot.logs import log_event

log = logging.getLogger(__name__)

MAX_WORKERS = 64
STOP_GRACE_SECONDS = 20.0
POLL_SECONDS = 0.2


def worker_environment(settings: Settings, environ: Mapping[str, str], index: int) -> dict[str, str]:
    """The environment of worker `index`: its own webhook port and metrics port, all else shared."""
    env = dict(environ)
    env["WEBHOOK_PORT"] = str(settings.webhook_port + index)
    if settings.metrics_port is not None:
        env["PEERLINE_METRICS_PORT"] = str(settings.metrics_port + index)
    env["PEERLINE_WORKER"] = str(index)
    return env


def worker_arguments(argv: Sequence[str]) -> list[str]:
    """The parent's `run` arguments without --workers (each worker is one process)."""
    args: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            args.append(arg)
    return args


def check_workers(settings: Settings, workers: int) -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"--workers is {workers}; set it between 1 and {MAX_WORKERS}")
    if settings.webhook_url is None:
        raise ConfigError("--workers needs --webhook: polling must run in exactly one process")
    if settings.redis_url is None:
        raise ConfigError("--workers needs REDIS_URL: the workers share conversations through Redis")
    if settings.webhook_port + workers - 1 > 65_535:
        raise ConfigError(f"WEBHOOK_PORT {settings.webhook_port} leaves no room for {workers} ports")


def run_workers(settings: Settings, workers: int, argv: Sequence[str]) -> int:
    """Start the workers and supervise them until a signal or until one exits; returns an exit code."""
    check_workers(settings, workers)
    # As the `peerline` script runs it: main()'s return value becomes the exit code the parent watches.
    command = [sys.executable, "-m", "bot.cli", *worker_arguments(argv)]
    children = [
        subprocess.Popen(command, env=worker_environment(settings, os.environ, i)) for i in range(workers)
    ]
    log_event(log, "workers_started", workers=workers, first_port=settings.webhook_port)
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(POLL_SECONDS)
        failed = next((c for c in children if c.poll() is not None), None) if not stopping else None
        if failed is not None:
            log_event(log, "worker_exited", logging.ERROR, code=failed.returncode)
            stop(signal.SIGTERM, None)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
        return (failed.returncode or 1) if failed is not None else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children:
            if child.poll() is None:
                child.kill()
