"""Shared fixtures: the shipped content is loaded once per test session (it is immutable), and a real
three-primary Redis Cluster is started once, only if a test asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.brain import Brain
from bot.engine import Engine
from tests.cluster_support import ClusterNodes, running_cluster


@pytest.fixture(scope="session")
def brain() -> Brain:
    return Brain.load()


@pytest.fixture
def engine(brain: Brain) -> Engine:
    return Engine(brain)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[ClusterNodes]:
    """A Redis Cluster on loopback ports for the whole session; stopped and its files deleted afterwards."""
    with running_cluster() as nodes:
        yield nodes
