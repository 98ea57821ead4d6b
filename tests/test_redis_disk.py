"""What /forget deletes leaves the disk too, with docker-compose's own Redis settings (review finding 6).

A private redis-server runs with the flags docker-compose.yml gives Redis; after /forget and the next
snapshot, nothing on disk names the person.
"""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.brain import Brain
from tests.fake_telegram import free_port
from tests.redis_support import PrivateRedis
from tests.telegram_harness import ALICE, bot_factory, eventually
from tests.test_deployment_files import compose


def compose_redis_flags() -> list[str]:
    """The redis-server flags in docker-compose.yml (its password comes on stdin: not a flag)."""
    command = compose()["services"]["redis"]["command"]
    script = command[-1] if isinstance(command, list) else command
    words = shlex.split(script.split("redis-server", 1)[1])
    return [w for w in words if w != "-"]


@pytest.fixture
async def compose_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    flags = compose_redis_flags()
    if "--dir" in flags:  # the container's /data is this test's own folder
        index = flags.index("--dir")
        del flags[index : index + 2]
    server = PrivateRedis(tmp_path, free_port(), persistence=[*flags, "--dir", str(tmp_path)])
    await server.start()
    try:
        yield server
    finally:
        server.stop()


def on_disk(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


async def test_after_forget_and_the_next_snapshot_nothing_on_disk_names_the_person(
    brain: Brain, compose_redis: PrivateRedis
) -> None:
    async with bot_factory(brain) as start:
        bot = await start(redis_url=compose_redis.url)
        user = bot.user_key(ALICE).encode()
        client = Redis.from_url(compose_redis.url)
        try:
            await bot.tg.send_text(ALICE, "/region uk")
            await bot.texts(ALICE, 1)
            await client.save()
            assert user in on_disk(compose_redis.directory)  # the snapshot does hold the session

            await bot.tg.send_text(ALICE, "/forget")
            await bot.texts(ALICE, 2)
            await bot.tg.send_text(ALICE, "yes")
            await bot.texts(ALICE, 3)

            async def forgotten() -> bool:
                return not [k async for k in client.scan_iter(match=f"*{user.decode()}*")]

            await eventually(forgotten)
            await client.save()  # what docker-compose's `save 60 1` does within a minute of the change
        finally:
            await client.aclose()
    assert user not in on_disk(compose_redis.directory)
    assert not list(compose_redis.directory.rglob("appendonly*"))


def test_compose_snapshots_within_a_minute_and_keeps_no_append_only_file() -> None:
    flags = compose_redis_flags()
    assert flags[flags.index("--appendonly") + 1] == "no"
    seconds, changes = flags[flags.index("--save") + 1].split()
    assert int(seconds) <= 60 and int(changes) == 1
