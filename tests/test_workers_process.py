"""`peerline run --webhook --workers N` as a real process: it starts N webhook workers, any of them
answers, and SIGTERM stops them all cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
from pathlib import Path

from tests.fake_telegram import FakeTelegram, free_port
from tests.redis_support import REDIS_URL, reachable_redis
from tests.telegram_harness import ALICE, ID_SECRET, WEBHOOK_SECRET, eventually

ROOT = Path(__file__).resolve().parents[1]


def listening(port: int) -> bool:
    with contextlib.closing(socket.socket()) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def two_free_ports() -> int:
    """A port whose next port is free too (worker i listens on WEBHOOK_PORT + i)."""
    while True:
        port = free_port()
        if port < 65_535 and not listening(port + 1):
            return port


def children_of(pid: int) -> list[int]:
    """Linux: the child processes of `pid` (the workers of the launcher)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


async def run_launcher(
    tg: FakeTelegram, prefix: str, port: int, log_path: Path
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_BASE_URL": tg.base_url,
        "REDIS_URL": REDIS_URL,
        "PEERLINE_REDIS_PREFIX": prefix,
        "PEERLINE_ID_SECRET": ID_SECRET,
        "PEERLINE_RATE_LIMITER": "off",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with log_path.open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--webhook", "--workers", "2",
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )  # fmt: skip


async def cleanup(process: asyncio.subprocess.Process, prefix: str) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()
    admin = await reachable_redis()
    stale = [k async for k in admin.scan_iter(match=f"*{prefix}:*", count=500)]
    if stale:
        await admin.delete(*stale)
    await admin.aclose()


async def test_workers_launcher_runs_n_webhook_processes_and_stops_them_on_sigterm(tmp_path: Path) -> None:
    prefix = f"pltest-{secrets.token_hex(6)}"
    port = two_free_ports()
    async with FakeTelegram() as tg:
        process = await run_launcher(tg, prefix, port, tmp_path / "workers.log")
        try:
            await tg.wait_for_calls("setWebhook", 2, timeout=120)  # two processes load content and model

            async def both_listen() -> bool:
                return listening(port) and listening(port + 1)

            await eventually(both_listen, timeout=30)
            await tg.send_text(ALICE, "where can i get narcan")  # posted to the webhook URL
            await tg.wait_for(
                lambda c: c.method == "sendMessage" and c.params.get("chat_id") == ALICE, timeout=15
            )
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0

            async def both_closed() -> bool:
                return not listening(port) and not listening(port + 1)

            await eventually(both_closed, timeout=10)
        finally:
            await cleanup(process, prefix)
        assert "event=workers_started workers=2" in (tmp_path / "workers.log").read_text()


async def test_when_one_worker_dies_the_launcher_stops_the_others_and_fails(tmp_path: Path) -> None:
    prefix = f"pltest-{secrets.token_hex(6)}"
    port = two_free_ports()
    async with FakeTelegram() as tg:
        process = await run_launcher(tg, prefix, port, tmp_path / "workers.log")
        try:
            await tg.wait_for_calls("setWebhook", 2, timeout=120)  # two processes load content and model
            workers = children_of(process.pid)
            assert len(workers) == 2
            os.kill(workers[0], signal.SIGKILL)
            # so a service manager restarts the set; the survivor's graceful stop is slow on a loaded machine
            assert await asyncio.wait_for(process.wait(), 90) != 0

            async def survivor_gone() -> bool:
                return not Path(f"/proc/{workers[1]}").exists() or "Z" in _state(workers[1])

            await eventually(survivor_gone, timeout=60)
        finally:
            await cleanup(process, prefix)
        assert "event=worker_exited" in (tmp_path / "workers.log").read_text()


def _state(pid: int) -> str:
    """A process's state letter from /proc (Z: exited, not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"
