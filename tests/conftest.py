"""Shared fixtures: the shipped content is loaded once per test session (it is immutable), with the
fictional example directory attached so referral features can be driven (the shipped content serves
none), a real Redis
with a fresh key prefix per test (its keys deleted afterwards), and a real three-primary Redis Cluster
started once, only if a test asks for it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from bot.brain import Brain
from bot.engine import Engine
from tests.cluster_support import ClusterNodes, running_cluster
from tests.example_directory import example_directory
from tests.redis_support import reachable_redis


@pytest.fixture(scope="session")
def brain() -> Brain:
    return replace(Brain.load(), directory=example_directory())


@pytest.fixture
def engine(brain: Brain) -> Engine:
    return Engine(brain)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[ClusterNodes]:
    """A Redis Cluster on loopback ports for the whole session; stopped and its files deleted afterwards."""
    with running_cluster() as nodes:
        yield nodes


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    """The test Redis (database 15) and a key prefix of this test's own; its keys are deleted after."""
    client = await reachable_redis()
    prefix = f"pltest-{secrets.token_hex(6)}"
    yield client, prefix
    stale = [k async for k in client.scan_iter(match=f"*{prefix}:*", count=500)]
    if stale:
        await client.delete(*stale)
    await client.aclose()
