"""Session stores: one behavioural suite run against MemoryStore, a real Redis and a real Redis Cluster,
plus KeyRing.

The Redis part uses database 15 of the Redis at 127.0.0.1:6379 (reserved for tests), the cluster part
the three-primary cluster the tests start (`tests/cluster_support.py`); both under a random key prefix
per test, deleting what they wrote afterwards. CI guarantees both, so they fail, not skip.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.crc import key_slot

from bot.errors import ConfigError, StoreUnavailable
from bot.keys import KeyRing
from bot.session import Pending, Session
from bot.state import USER_KEY_KINDS, MemoryStore, SessionStore, UserKeyKind
from bot.state.client import RedisClient, open_redis
from bot.state.memory import _Entry
from bot.state.redis import RedisStore, key_for
from tests.cluster_support import ClusterNodes
from tests.redis_support import REDIS_URL, reachable_redis

TTL = 60
SECRET = b"test-only-secret-0123456789abcdef"
TELEGRAM_ID = 987_654_321_012_345  # long, so its digits can't turn up in a hex key by chance
OTHER_TELEGRAM_ID = 123_456_789_098_765
USER_KEYS = KeyRing(SECRET)
USER = USER_KEYS.key(TELEGRAM_ID)
OTHER_USER = USER_KEYS.key(OTHER_TELEGRAM_ID)
MESSAGE_TEXT = "my friend took 3 xanax bars and won't wake up, im scared"

Condition = Callable[[], Awaitable[bool]]


def rich_session() -> Session:
    """A session with every field set, as the engine would leave it after a few turns."""
    session = Session(locale="en", region="uk", fallbacks=2)
    session = session.after_intent("benzos").after_intent("overdose_signs")
    _, session = session.variant_after("overdose_signs", 3)
    _, session = session.variant_after("benzos", 2)
    return Session(
        locale=session.locale,
        region=session.region,
        recent_intents=session.recent_intents,
        pending=Pending("confirm", "naloxone", "overdose_signs"),
        fallbacks=1,
        last_variants=session.last_variants,
    )


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backend(Protocol):
    """What the shared suite needs from a backend besides the store itself."""

    name: str
    store: SessionStore

    def open(self, ttl_seconds: int) -> SessionStore:
        """Another store on the same backend (and key namespace) with its own TTL."""
        ...

    async def wait_for(self, condition: Condition, within: float) -> float:
        """Seconds (real or simulated) until the condition held; fails the test after `within`."""
        ...

    async def stored(self) -> dict[str, str]:
        """Everything the backend holds for this test, as key -> raw value."""
        ...

    async def plant_every_kind(self, user: str) -> None:
        """Write a value under every per-user key kind, as later features (handoff, relay) will."""
        ...

    async def ttl_left(self, user: str, kind: UserKeyKind) -> float | None:
        """Seconds until that key expires, None if it is gone, inf if it never expires."""
        ...


class MemoryBackend:
    name = "memory"

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.stores: list[MemoryStore] = []
        self.store: SessionStore = self.open(TTL)

    def open(self, ttl_seconds: int) -> MemoryStore:
        store = MemoryStore(ttl_seconds, clock=self.clock)
        self.stores.append(store)
        return store

    async def wait_for(self, condition: Condition, within: float) -> float:
        start = self.clock()
        while not await condition():
            if self.clock() - start > within:
                pytest.fail(f"condition not met within {within}s of simulated time")
            self.clock.advance(0.05)
        return self.clock() - start

    async def stored(self) -> dict[str, str]:
        # Peeks at internals on purpose: the memory counterpart of SCAN, including not-yet-purged entries.
        return {
            f"{user}:{kind}": str(entry.value)
            for store in self.stores
            for user, entries in store._users.items()
            for kind, entry in entries.items()
        }

    async def plant_every_kind(self, user: str) -> None:
        store = self.stores[0]
        for kind in USER_KEY_KINDS:
            store._users.setdefault(user, {})[kind] = _Entry("planted", self.clock() + TTL)

    async def ttl_left(self, user: str, kind: UserKeyKind) -> float | None:
        for store in self.stores:
            entry = store._users.get(user, {}).get(kind)
            if entry is not None and entry.expires_at > self.clock():
                return entry.expires_at - self.clock()
        return None

    async def aclose(self) -> None:
        for store in self.stores:
            await store.close()


class RedisBackend:
    """One Redis server, or (with a cluster URL and client) a Redis Cluster."""

    def __init__(self, admin: RedisClient, url: str = REDIS_URL, name: str = "redis") -> None:
        self.name = name
        self.admin = admin
        self.url = url
        self.prefix = f"pltest-{secrets.token_hex(6)}"
        self.stores: list[RedisStore] = []
        self.store: SessionStore = self.open(TTL)

    def open(self, ttl_seconds: int) -> RedisStore:
        store = RedisStore.from_url(self.url, ttl_seconds, prefix=self.prefix)
        self.stores.append(store)
        return store

    async def wait_for(self, condition: Condition, within: float) -> float:
        start = time.monotonic()
        while not await condition():
            if time.monotonic() - start > within:
                pytest.fail(f"condition not met within {within}s")
            await asyncio.sleep(0.02)
        return time.monotonic() - start

    async def keys(self) -> list[str]:
        return [k.decode() async for k in self.admin.scan_iter(match=f"{self.prefix}:*", count=500)]

    async def stored(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for key in await self.keys():
            raw = await self.admin.get(key)
            if raw is not None:
                found[key] = raw.decode() if isinstance(raw, bytes) else str(raw)
        return found

    async def plant_every_kind(self, user: str) -> None:
        for kind in USER_KEY_KINDS:
            await self.admin.set(key_for(self.prefix, user, kind), "planted", ex=TTL)

    async def ttl_left(self, user: str, kind: UserKeyKind) -> float | None:
        millis = await self.admin.pttl(key_for(self.prefix, user, kind))
        if millis == -2:
            return None
        return float("inf") if millis == -1 else millis / 1000

    async def aclose(self) -> None:
        for store in self.stores:
            await store.close()
        leftovers = await self.keys()
        if leftovers:
            await self.admin.delete(*leftovers)
        await self.admin.aclose()


def cluster_backend(nodes: ClusterNodes) -> RedisBackend:
    return RedisBackend(open_redis(nodes.url), nodes.url, name="cluster")


@pytest.fixture(params=["memory", "redis", "cluster"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    harness: MemoryBackend | RedisBackend
    if request.param == "memory":
        harness = MemoryBackend()
    elif request.param == "redis":
        harness = RedisBackend(await reachable_redis())
    else:  # started only when a cluster case runs
        harness = cluster_backend(request.getfixturevalue("redis_cluster"))
    try:
        yield harness
    finally:
        await harness.aclose()


@pytest.fixture(params=["redis", "cluster"])
async def redis_backend(request: pytest.FixtureRequest) -> AsyncIterator[RedisBackend]:
    if request.param == "redis":
        harness = RedisBackend(await reachable_redis())
    else:
        harness = cluster_backend(request.getfixturevalue("redis_cluster"))
    try:
        yield harness
    finally:
        await harness.aclose()


# --- The shared behaviour: every backend must pass every test below. ---


async def test_saved_session_loads_back_equal(backend: Backend) -> None:
    session = rich_session()
    await backend.store.save(USER, session)
    assert await backend.store.load(USER) == session


async def test_unknown_user_has_no_session(backend: Backend) -> None:
    assert await backend.store.load(USER) is None


async def test_saving_again_replaces_the_session(backend: Backend) -> None:
    await backend.store.save(USER, rich_session())
    await backend.store.save(USER, Session(region="de"))
    assert await backend.store.load(USER) == Session(region="de")


async def test_users_do_not_see_each_others_sessions(backend: Backend) -> None:
    await backend.store.save(USER, Session(region="uk"))
    await backend.store.save(OTHER_USER, Session(region="us"))
    assert await backend.store.load(USER) == Session(region="uk")
    assert await backend.store.load(OTHER_USER) == Session(region="us")


async def test_forget_removes_every_key_about_the_user(backend: Backend) -> None:
    store = backend.store
    await store.save(USER, rich_session())
    await store.count_message(USER, 60)
    await backend.plant_every_kind(USER)  # handoff and relay keys too, as later features will write them
    await store.save(OTHER_USER, Session(region="us"))
    held = await backend.stored()
    assert {k for k in held if USER in k} and not any(str(TELEGRAM_ID) in k + v for k, v in held.items())

    await store.forget(USER)

    remaining = await backend.stored()
    assert not [k for k in remaining if USER in k], remaining
    assert await store.load(USER) is None
    assert await store.load(OTHER_USER) == Session(region="us"), "forget must touch only that user"
    await store.forget(OTHER_USER)
    assert await backend.stored() == {}


async def test_forget_covers_every_declared_key_kind(backend: Backend) -> None:
    assert set(USER_KEY_KINDS) >= {"session", "flood", "handoff", "blocked"}
    await backend.plant_every_kind(USER)
    await backend.store.forget(USER)
    for kind in USER_KEY_KINDS:
        assert await backend.ttl_left(USER, kind) is None, kind


async def test_forgetting_an_unknown_user_is_harmless(backend: Backend) -> None:
    await backend.store.forget(USER)
    assert await backend.store.load(USER) is None


async def test_session_expires_after_ttl(backend: Backend) -> None:
    store = backend.open(ttl_seconds=1)
    await store.save(USER, Session(region="uk"))
    left = await backend.ttl_left(USER, "session")
    assert left is not None and 0 < left <= 1
    assert await store.load(USER) == Session(region="uk")

    async def gone() -> bool:
        return await store.load(USER) is None

    elapsed = await backend.wait_for(gone, within=5)
    assert elapsed > 0.5, "expired long before its TTL"


async def test_save_refreshes_ttl(backend: Backend) -> None:
    store = backend.open(ttl_seconds=2)
    await store.save(USER, Session(region="uk"))

    async def half_gone() -> bool:
        left = await backend.ttl_left(USER, "session")
        return left is not None and left < 1.0

    await backend.wait_for(half_gone, within=5)
    await store.save(USER, Session(region="de"))
    left = await backend.ttl_left(USER, "session")
    assert left is not None and 1.0 < left <= 2
    assert await store.load(USER) == Session(region="de")


async def test_loading_does_not_extend_the_ttl(backend: Backend) -> None:
    store = backend.open(ttl_seconds=1)
    await store.save(USER, Session(region="uk"))

    async def gone_despite_loading() -> bool:
        return await store.load(USER) is None

    await backend.wait_for(gone_despite_loading, within=5)


async def test_flood_counter_counts_within_window_and_resets(backend: Backend) -> None:
    store = backend.store
    assert [await store.count_message(USER, 1) for _ in range(3)] == [1, 2, 3]
    assert await store.count_message(OTHER_USER, 1) == 1, "each user has their own counter"
    left = await backend.ttl_left(USER, "flood")
    assert left is not None and 0 < left <= 1

    async def window_over() -> bool:
        return await backend.ttl_left(USER, "flood") is None

    await backend.wait_for(window_over, within=5)
    assert await store.count_message(USER, 1) == 1


async def test_flood_window_is_fixed_not_sliding(backend: Backend) -> None:
    store = backend.store
    await store.count_message(USER, 2)

    async def window_half_over() -> bool:
        left = await backend.ttl_left(USER, "flood")
        return left is not None and left < 1.5

    await backend.wait_for(window_half_over, within=5)
    assert await store.count_message(USER, 2) == 2
    left = await backend.ttl_left(USER, "flood")
    assert left is not None and left < 1.5, "a message inside the window must not extend it"


async def test_flood_counter_is_exact_under_concurrency(backend: Backend) -> None:
    counts = await asyncio.gather(*(backend.store.count_message(USER, 60) for _ in range(25)))
    assert sorted(counts) == list(range(1, 26))


async def test_loading_while_counting_gives_the_session_and_the_same_count_as_counting_alone(
    backend: Backend,
) -> None:
    store = backend.store
    assert await store.load_and_count(USER, 60) == (None, 1)
    await store.save(USER, rich_session())
    assert await store.count_message(USER, 60) == 2
    assert await store.load_and_count(USER, 60) == (rich_session(), 3)
    assert await store.load_and_count(OTHER_USER, 60) == (None, 1)
    left = await backend.ttl_left(USER, "flood")
    assert left is not None and 0 < left <= 60
    counts = await asyncio.gather(*(store.load_and_count(USER, 60) for _ in range(10)))
    assert sorted(count for _, count in counts) == list(range(4, 14))


async def test_flood_counter_does_not_keep_the_session_alive(backend: Backend) -> None:
    await backend.store.count_message(USER, 60)
    assert await backend.store.load(USER) is None
    assert await backend.ttl_left(USER, "session") is None


async def test_stored_values_contain_no_message_text_or_raw_id(backend: Backend) -> None:
    session = rich_session()
    await backend.store.save(USER, session)
    await backend.store.count_message(USER, 60)

    held = await backend.stored()
    everything = " ".join(f"{k} {v}" for k, v in held.items()).lower()
    assert str(TELEGRAM_ID) not in everything
    assert MESSAGE_TEXT not in everything and "xanax" not in everything and "scared" not in everything
    (session_value,) = [v for k, v in held.items() if k.endswith(":session")]
    assert json.loads(session_value) == session.to_dict(), "only Session.to_dict() is stored"
    assert session_value == json.dumps(session.to_dict(), separators=(",", ":")), "compact JSON"


async def test_store_rejects_a_user_key_that_would_break_the_key_schema(backend: Backend) -> None:
    for bad in ("", "a{b}", "a:b", "has space"):
        with pytest.raises(ValueError):
            await backend.store.load(bad)
        with pytest.raises(ValueError):
            await backend.store.forget(bad)


async def test_flood_window_must_be_positive(backend: Backend) -> None:
    with pytest.raises(ValueError):
        await backend.store.count_message(USER, 0)


async def test_ping_answers_when_up_and_close_is_safe_twice(backend: Backend) -> None:
    store = backend.open(TTL)
    assert await store.ping() is True
    await store.close()
    await store.close()


# --- Redis and Redis Cluster only ---


async def test_keys_of_one_user_share_a_cluster_hash_tag(redis_backend: RedisBackend) -> None:
    store = redis_backend.store
    await store.save(USER, rich_session())
    await store.count_message(USER, 60)
    await redis_backend.plant_every_kind(USER)

    keys = await redis_backend.keys()
    assert len(keys) == len(USER_KEY_KINDS)
    for key in keys:
        assert key.startswith(f"{redis_backend.prefix}:{{{USER}}}:"), key
        assert key[key.index("{") + 1 : key.index("}")] == USER
    assert len({key_slot(k.encode()) for k in keys}) == 1, "one cluster slot, so one DEL can forget"


async def test_redis_keys_follow_the_documented_schema(redis_backend: RedisBackend) -> None:
    await redis_backend.store.save(USER, Session())
    await redis_backend.store.count_message(USER, 60)
    assert sorted(await redis_backend.keys()) == sorted(
        f"{redis_backend.prefix}:{{{USER}}}:{kind}" for kind in ("session", "flood")
    )


async def test_unreadable_stored_session_loads_as_none(redis_backend: RedisBackend) -> None:
    await redis_backend.admin.set(key_for(redis_backend.prefix, USER, "session"), b"\xff not json")
    assert await redis_backend.store.load(USER) is None


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "redis+cluster://127.0.0.1:1,127.0.0.1:2"])
async def test_redis_down_raises_store_unavailable(url: str) -> None:
    store = RedisStore.from_url(url, ttl_seconds=TTL)
    try:
        assert await store.ping() is False
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: store.load(USER),
            lambda: store.save(USER, Session()),
            lambda: store.forget(USER),
            lambda: store.count_message(USER, 60),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable, match="Redis is running"):
                await call()
    finally:
        await store.close()


def test_redis_store_is_a_session_store() -> None:
    store: SessionStore = RedisStore.from_url(REDIS_URL, ttl_seconds=TTL)  # mypy checks the protocol
    assert isinstance(store, RedisStore)


# --- Memory only ---


async def test_memory_store_is_bounded() -> None:
    clock = FakeClock()
    store = MemoryStore(TTL, clock=clock, max_users=100)
    users = [USER_KEYS.key(n) for n in range(250)]
    for user in users:
        await store.save(user, Session())
        await store.count_message(user, 60)
    assert len(store) == 100
    assert await store.load(users[0]) is None, "the least recently active user is evicted first"
    assert await store.load(users[-1]) == Session()


async def test_memory_store_purges_expired_users_lazily() -> None:
    clock = FakeClock()
    store = MemoryStore(TTL, clock=clock)
    for n in range(50):
        await store.save(USER_KEYS.key(n), Session())
    clock.advance(TTL + 1)
    await store.save(USER, Session())
    assert len(store) == 1


async def test_memory_store_keeps_recently_active_users_over_idle_ones() -> None:
    store = MemoryStore(TTL, clock=FakeClock(), max_users=2)
    await store.save(USER, Session(region="uk"))
    await store.save(OTHER_USER, Session())
    await store.count_message(USER, 60)  # activity moves USER to the young end
    await store.save(USER_KEYS.key(1), Session())
    assert await store.load(USER) == Session(region="uk")
    assert await store.load(OTHER_USER) is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["save", "count", "load", "forget"]),
            st.integers(min_value=0, max_value=20),
            st.floats(min_value=0, max_value=30, allow_nan=False),
        ),
        max_size=80,
    )
)
def test_memory_store_never_holds_more_than_max_users(ops: list[tuple[str, int, float]]) -> None:
    async def run() -> None:
        clock = FakeClock()
        store = MemoryStore(10, clock=clock, max_users=5)
        for op, n, wait in ops:
            user = USER_KEYS.key(n)
            clock.advance(wait)
            if op == "save":
                await store.save(user, Session())
            elif op == "count":
                assert await store.count_message(user, 5) >= 1
            elif op == "load":
                await store.load(user)
            else:
                await store.forget(user)
                assert await store.load(user) is None
            assert len(store) <= 5

    asyncio.run(run())


def test_memory_store_is_a_session_store() -> None:
    store: SessionStore = MemoryStore(TTL)  # mypy checks the protocol
    assert isinstance(store, MemoryStore)


# --- KeyRing (store keys and log aliases; tests/test_keys.py has the rest) ---


def test_same_id_and_secret_give_the_same_key() -> None:
    assert KeyRing(SECRET).key(TELEGRAM_ID) == KeyRing(SECRET.decode()).key(TELEGRAM_ID)


def test_different_secret_gives_a_different_key() -> None:
    assert KeyRing(SECRET).key(TELEGRAM_ID) != KeyRing(b"another-deployment").key(TELEGRAM_ID)


def test_different_ids_give_different_keys() -> None:
    assert USER_KEYS.key(TELEGRAM_ID) != USER_KEYS.key(TELEGRAM_ID + 1)


def test_key_never_contains_the_id_digits() -> None:
    key = USER_KEYS.key(TELEGRAM_ID)
    assert str(TELEGRAM_ID) not in key
    assert len(key) == 32 and all(c in "0123456789abcdef" for c in key)


def test_log_alias_is_short_stable_and_not_part_of_the_key() -> None:
    alias = USER_KEYS.log_alias(USER)
    assert len(alias) == 8
    assert alias == KeyRing(SECRET).log_alias(USER)
    assert alias not in USER, "an alias must not let logs be joined to store keys"
    assert alias != USER_KEYS.log_alias(OTHER_USER)


def test_empty_secret_is_refused() -> None:
    for empty in (b"", ""):
        with pytest.raises(ConfigError, match="secret"):
            KeyRing(empty)


def test_key_ring_repr_hides_the_secret() -> None:
    assert SECRET.decode() not in repr(USER_KEYS) and SECRET.decode() not in str(USER_KEYS)


async def test_a_burst_beyond_the_connection_limit_waits_for_connections_instead_of_failing() -> None:
    # redis-py's default pool refused the 101st concurrent command at once; a burst of updates then looked
    # like an outage and people's sessions were not saved.
    prefix = f"pltest-{secrets.token_hex(6)}"
    store = RedisStore.from_url(REDIS_URL, 600, prefix=prefix)
    users = [f"{i:032x}" for i in range(600)]
    try:
        counts = await asyncio.gather(*(store.count_message(user, 60) for user in users))
        await asyncio.gather(*(store.save(user, Session(region="uk")) for user in users))
        loaded = await asyncio.gather(*(store.load(user) for user in users))
    finally:
        await asyncio.gather(*(store.forget(user) for user in users))
        await store.close()
    assert counts == [1] * len(users)
    assert all(session is not None and session.region == "uk" for session in loaded)
