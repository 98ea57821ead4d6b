"""Shared fixtures: the shipped content is loaded once per test session (it is immutable)."""

from __future__ import annotations

import pytest

from bot.brain import Brain
from bot.engine import Engine


@pytest.fixture(scope="session")
def brain() -> Brain:
    return Brain.load()


@pytest.fixture
def engine(brain: Brain) -> Engine:
    return Engine(brain)
