"""End-to-end load: simulated people -> fake Bot API server -> the real bot process -> real Redis.

    python bench/bench_load.py [--redis redis://127.0.0.1:6379/14] [--rate 100] [--seconds 10]
                               [--levels 1000,10000,100000] [--burst 3000]

Prints figures, asserts nothing. The bot runs as `peerline run` does (long polling,
`PEERLINE_RATE_LIMITER=off`) in its own process, so its RSS is its own and the fake server and the load
generator (this process) do not share its core. The fake records when each sendMessage arrives; the
bot's own `latency_ms` comes from its `event=update` log lines, and its CPU time from /proc.
Everything the bot writes goes under a fresh Redis key prefix, deleted at the end.

For each level of sessions (1,000, 10,000, 100,000): sessions up to 10,000 are created by messages (one
new person per message); beyond that they are seeded straight into Redis with the real key schema and
session encoding (far faster than 90,000 messages). Then: a burst of queued messages for the maximum
replies per second, a fixed offered load (one message every 1/rate s, each from a different person with a
session) for the latencies, the bot's RSS, and Redis MEMORY USAGE sampled over the session and flood keys.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import re
import secrets
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake Bot API server lives in tests/

from redis.asyncio import Redis  # noqa: E402

from bot.brain import Brain  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.events import TextMessage  # noqa: E402
from bot.keys import KeyRing  # noqa: E402
from bot.session import Session  # noqa: E402
from bot.state.base import encode_session  # noqa: E402
from bot.state.redis import key_for  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

# Messages that each get exactly one reply, whatever the session (checked against the engine at start).
MESSAGES = (
    "where can i get naloxone",
    "how do i test for fentanyl",
    "is it safe to mix alcohol and benzos",
    "what are signs of an overdose",
    "i feel dope sick",
    "how much water should i drink on mdma",
    "hi",
    "can you help me with withdrawal",
)
FIRST_USER_ID = 5_000_000_000
LATENCY_RE = re.compile(r"event=update .*latency_ms=(\d+)")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb(pid: int) -> float:
    """Resident set size of a process from /proc, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, from /proc (robust to other load on the machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class BotProcess:
    """The bot as `peerline run` starts it, with its log lines read as they come."""

    proc: asyncio.subprocess.Process
    latencies_ms: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def read_logs(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            match = LATENCY_RE.search(line)
            if match:
                self.latencies_ms.append(int(match.group(1)))
            elif " ERROR " in line or "Traceback" in line:
                self.errors.append(line.strip())


class Replies:
    """Arrival times of sendMessage calls at the fake, per chat, read incrementally from its call log."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self._seen = 0
        self.by_chat: dict[int, list[float]] = {}
        self.count = 0

    def update(self) -> int:
        calls = self.tg.calls
        for call in calls[self._seen :]:
            if call.method == "sendMessage" and call.ok:
                chat = int(call.params["chat_id"])
                self.by_chat.setdefault(chat, []).append(call.at)
                self.count += 1
        self._seen = len(calls)
        return self.count

    async def wait_for(self, count: int, timeout: float) -> None:
        await self.tg.wait_for(lambda: self.update() >= count, timeout, description=f"{count} replies")


async def start_bot(
    tg: FakeTelegram, redis_url: str, prefix: str, secret: str, profile: str | None = None
) -> BotProcess:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_BASE_URL": tg.base_url,
        "REDIS_URL": redis_url,
        "PEERLINE_REDIS_PREFIX": prefix,
        "PEERLINE_ID_SECRET": secret,
        "PEERLINE_RATE_LIMITER": "off",
        "PEERLINE_FLOOD_LIMIT": "1000",  # each simulated person sends a handful of messages at most
        "PEERLINE_LOG_LEVEL": "INFO",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *profiler,
        "-m",
        "bot.cli",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = BotProcess(proc)
    bot.reader = asyncio.create_task(bot.read_logs())
    await tg.wait_for_poll(timeout=30)
    return bot


async def send(tg: FakeTelegram, user_id: int, index: int) -> float:
    """Inject one message; returns the fake's clock at injection."""
    at = asyncio.get_running_loop().time()
    await tg.send_text(user_id, MESSAGES[index % len(MESSAGES)])
    return at


def quiet_collector() -> None:
    """Keep this process's garbage collector from pausing the fake Bot API server mid-measurement.

    The fake keeps every call it answered (14,000+ with their parameters and answers at the 10,500 level);
    each full collection rescanned them all and stalled both the injection of updates and the fake's
    answers to the bot for 100-350 ms, which the bot counted in its own latency. What exists now lives
    until the end of the run anyway: move it out of the collector's reach.
    """
    gc.freeze()


@dataclass(frozen=True)
class Burst:
    count: int
    per_second: float  # wall clock, injection of the first to arrival of the last reply
    cpu_ms: float  # the bot's CPU time per reply


async def burst(tg: FakeTelegram, replies: Replies, bot: BotProcess, users: Iterable[int]) -> Burst:
    """Queue one message from each person at once; replies per second until the last reply arrived."""
    users = list(users)
    quiet_collector()
    before = replies.update()
    loop = asyncio.get_running_loop()
    cpu = cpu_seconds(bot.proc.pid)
    start = loop.time()
    for i, user in enumerate(users):
        await send(tg, user, i)
    await replies.wait_for(before + len(users), timeout=60 + len(users) / 50)
    last = max(replies.by_chat[user][-1] for user in users)
    cpu_ms = (cpu_seconds(bot.proc.pid) - cpu) * 1000 / len(users)
    return Burst(len(users), len(users) / (last - start), cpu_ms)


async def steady(
    tg: FakeTelegram, replies: Replies, bot: BotProcess, users: list[int], rate: float
) -> tuple[list[float], list[int], float]:
    """One message every 1/rate s, each from a different person: end-to-end and bot-side latencies (ms)."""
    loop = asyncio.get_running_loop()
    replies.update()
    quiet_collector()
    deadline = loop.time() + 10
    while len(bot.latencies_ms) < len(tg.injected_updates) and loop.time() < deadline:
        await asyncio.sleep(0.05)  # the burst's log lines trail its replies: don't count them here
    logged = len(bot.latencies_ms)
    sent: list[tuple[int, float, int]] = []
    start = loop.time()
    for i, user in enumerate(users):
        target = start + i / rate
        delay = target - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        before = len(replies.by_chat.get(user, ()))
        sent.append((user, await send(tg, user, i), before))
        replies.update()
    offered = len(users) / (loop.time() - start)
    await tg.wait_for(
        lambda: replies.update() is not None and all(len(replies.by_chat.get(u, ())) > n for u, _, n in sent),
        timeout=60,
        description="every steady-load reply",
    )
    end_to_end = [(replies.by_chat[u][n] - at) * 1000 for u, at, n in sent]
    deadline = loop.time() + 10
    while len(bot.latencies_ms) < logged + len(users) and loop.time() < deadline:
        await asyncio.sleep(0.05)  # log lines trail the replies by a moment
    return end_to_end, bot.latencies_ms[logged : logged + len(users)], offered


def sample_sessions(brain: Brain, count: int = 64) -> list[str]:
    """Encoded sessions as real conversations leave them (two or three answers in)."""
    engine = Engine(brain)
    rng = random.Random(3)
    out = []
    for _ in range(count):
        session = Session()
        for text in rng.sample(MESSAGES, rng.randint(1, 3)):
            session = engine.handle(TextMessage(text), session).session or session
        out.append(encode_session(session))
    return out


async def seed(redis: Redis, keys: KeyRing, prefix: str, users: range, values: list[str], ttl: int) -> None:
    """Sessions written straight to Redis, exactly as the bot's RedisStore would write them."""
    batch = 5_000
    for offset in range(0, len(users), batch):
        async with redis.pipeline(transaction=False) as pipe:
            for n, user in enumerate(users[offset : offset + batch]):
                pipe.set(key_for(prefix, keys.key(user), "session"), values[n % len(values)], ex=ttl)
            await pipe.execute()


async def memory_usage(redis: Redis, prefix: str, kind: str, sample: int = 300) -> tuple[float, int]:
    """Mean MEMORY USAGE of up to `sample` keys of a kind, and how many such keys there are."""
    found = [k async for k in redis.scan_iter(match=f"{prefix}:*:{kind}", count=5000)]
    picked = random.Random(5).sample(found, min(sample, len(found)))
    sizes = [await redis.memory_usage(k, samples=0) or 0 for k in picked]
    return (statistics.fmean(sizes) if sizes else 0.0), len(found)


async def run(args: argparse.Namespace) -> None:
    brain = Brain.load()
    engine = Engine(brain)
    for text in MESSAGES:
        assert len(engine.handle(TextMessage(text), Session()).replies) == 1, text
    levels = sorted(int(n) for n in args.levels.split(","))
    prefix = f"plbench-{secrets.token_hex(4)}"
    secret = secrets.token_hex(32)
    keys = KeyRing(secret)
    redis = Redis.from_url(args.redis)
    await redis.ping()
    values = sample_sessions(brain)
    rows: list[dict[str, str]] = []
    print(f"bot: peerline run (polling, rate limiter off), Redis {args.redis}, key prefix {prefix}")
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    async with FakeTelegram() as tg:
        bot = await start_bot(tg, args.redis, prefix, secret, args.profile)
        replies = Replies(tg)
        try:
            print(f"RSS after start-up: {rss_mb(bot.proc.pid):.1f} MB")
            await burst(tg, replies, bot, range(FIRST_USER_ID - 500, FIRST_USER_ID))  # warm up, not counted
            created = 0  # sessions created by messages (people FIRST_USER_ID .. +created)
            total = 0  # sessions in Redis
            seen = 500  # distinct people the process has handled (warm-up included)
            seeded_total = 0
            rng = random.Random(11)
            for level in levels:
                by_messages = min(level, args.max_by_messages) - created
                new: Burst | None = None
                if by_messages > 0:
                    users = range(FIRST_USER_ID + created, FIRST_USER_ID + created + by_messages)
                    new = await burst(tg, replies, bot, users)
                    created += by_messages
                    seen += by_messages
                total = max(total, created)
                seeded = level - total
                if seeded > 0:
                    started = time.perf_counter()
                    users = range(FIRST_USER_ID + total, FIRST_USER_ID + level)
                    await seed(redis, keys, prefix, users, values, 86_400)
                    print(f"seeded {seeded} sessions in {time.perf_counter() - started:.1f} s")
                    total = level
                    seeded_total += seeded
                pool = list(range(FIRST_USER_ID, FIRST_USER_ID + total))
                # Max throughput: queued messages from people who already have a session.
                back = await burst(tg, replies, bot, rng.sample(pool, min(args.burst, len(pool))))
                end_to_end, bot_side, offered = await steady(
                    tg, replies, bot, rng.sample(pool, int(args.rate * args.seconds)), args.rate
                )
                seen = len(replies.by_chat)
                session_bytes, sessions = await memory_usage(redis, prefix, "session")
                flood_bytes, floods = await memory_usage(redis, prefix, "flood")
                rows.append(
                    {
                        "sessions": f"{sessions:,}",
                        "created by messages / seeded": f"{sessions - seeded_total:,} / {seeded_total:,}",
                        "new people: replies/s, bot CPU ms/reply": (
                            f"{new.per_second:.0f}, {new.cpu_ms:.2f} ({new.count:,})" if new else "-"
                        ),
                        "returning people: replies/s, bot CPU ms/reply": (
                            f"{back.per_second:.0f}, {back.cpu_ms:.2f} ({back.count:,})"
                        ),
                        "end-to-end median / p99 ms": (
                            f"{statistics.median(end_to_end):.1f} / {percentile(end_to_end, 0.99):.1f}"
                            f" at {offered:.0f}/s"
                        ),
                        "bot-side median / p99 ms": (
                            f"{statistics.median(bot_side):.0f} / {percentile(bot_side, 0.99):.0f}"
                            if bot_side
                            else "-"
                        ),
                        "people the process handled": f"{seen:,}",
                        "bot RSS MB": f"{rss_mb(bot.proc.pid):.1f}",
                        "Redis bytes per session key": f"{session_bytes:.0f}",
                        "Redis bytes per flood key": f"{flood_bytes:.0f} ({floods:,} live)",
                    }
                )
                print(" | ".join(f"{k}: {v}" for k, v in rows[-1].items()), flush=True)
            info = await redis.info("memory")
            print(f"Redis used_memory (whole server, shared with other users): {info['used_memory_human']}")
            if bot.errors:
                print(f"bot logged {len(bot.errors)} errors, first: {bot.errors[0]}")
        finally:
            bot.proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bot.proc.wait(), 15)
            if bot.reader:
                bot.reader.cancel()
            stale = [k async for k in redis.scan_iter(match=f"{prefix}:*", count=5000)]
            for i in range(0, len(stale), 5000):
                await redis.delete(*stale[i : i + 5000])
            await redis.aclose()
    print()
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + " --- |" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--levels", default="1000,10000,100000", help="session counts, comma-separated")
    parser.add_argument("--max-by-messages", type=int, default=10_000, help="beyond this, seed sessions")
    parser.add_argument("--burst", type=int, default=3000, help="queued messages for max throughput")
    parser.add_argument("--rate", type=float, default=100.0, help="offered load, messages per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the offered load lasts")
    parser.add_argument("--profile", metavar="FILE", help="run the bot under cProfile, stats to FILE")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
