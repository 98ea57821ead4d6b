"""Redis Cluster: the handoff queue, /forget, statistics and reloads on a real three-primary cluster.

The cluster is started by the tests (`tests/cluster_support.py`); each test works under its own random key
prefix and deletes its keys afterwards. Every multi-key command must keep to one slot, so a test passing
here means no CROSSSLOT error on the path it drives. The session store's shared suite runs on the cluster
in `tests/test_session_store.py`.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bot.brain import Brain
from bot.config import Settings
from bot.engine import Engine
from bot.handoff.queue import HandoffQueue
from bot.handoff.record import Handoff
from bot.keys import KeyRing
from bot.reload import ContentReloader
from bot.session import Session
from bot.state import USER_KEY_KINDS
from bot.state.client import RedisClient, open_redis
from bot.state.redis import RedisStore, key_for
from bot.state.reload_bus import ReloadBus
from bot.telegram.run import open_store
from bot.usage import UsageStats
from bot.usage.unmatched import UnmatchedLog
from tests.cluster_support import ClusterNodes
from tests.minimal_content import write_minimal_content
from tests.telegram_harness import eventually
from tests.test_reload import add_example
from tests.test_usage_stats import LATE_EVENING, Clock

TTL = 3600
BLOCK_TTL = 86_400
USER_KEYS = KeyRing(b"cluster-test-secret-0123456789")
USER = USER_KEYS.key(111_222_333_444)
OTHER_USER = USER_KEYS.key(555_666_777_888)


@dataclass
class OnCluster:
    """A test's view of the cluster: its URL, a client, and the test's own key prefix."""

    nodes: ClusterNodes
    client: RedisClient
    prefix: str

    def queue(self, client: RedisClient | None = None) -> HandoffQueue:
        return HandoffQueue(client or self.client, self.prefix, TTL, BLOCK_TTL)

    async def keys(self) -> list[str]:
        # "*" first: some keys start with a hash tag that holds the prefix.
        return sorted([k.decode() async for k in self.client.scan_iter(match=f"*{self.prefix}:*", count=500)])


@pytest.fixture
async def cluster(redis_cluster: ClusterNodes) -> AsyncIterator[OnCluster]:
    client = open_redis(redis_cluster.url)
    on = OnCluster(redis_cluster, client, f"pltest-{secrets.token_hex(6)}")
    try:
        yield on
    finally:
        stale = await on.keys()
        if stale:
            await client.delete(*stale)
        await client.aclose()


def handoff(user: str, ticket: str, since: float = 1_000.0, crisis: bool = False) -> Handoff:
    return Handoff(
        user=user,
        ticket=ticket,
        conversation_name=f"a{ticket[:4]}",
        chat="sealed",
        since=since,
        crisis=crisis,
    )


async def test_a_redis_cluster_url_spreads_users_over_every_primary(cluster: OnCluster) -> None:
    store = RedisStore.from_url(cluster.nodes.url, TTL, prefix=cluster.prefix)
    try:
        assert isinstance(store.client, RedisCluster)
        users = [USER_KEYS.key(n) for n in range(40)]
        for user in users:
            await store.save(user, Session(region="uk"))
        assert [await store.load(user) for user in users] == [Session(region="uk")] * 40
        per_node = []
        for port in cluster.nodes.ports:
            node = Redis(host="127.0.0.1", port=port)
            try:
                per_node.append(len([k async for k in node.scan_iter(match=f"{cluster.prefix}:*")]))
            finally:
                await node.aclose()
        assert sum(per_node) == 40 and all(per_node), f"keys per primary: {per_node}"
    finally:
        await store.close()


async def test_redis_cluster_switch_makes_a_plain_url_name_a_cluster(cluster: OnCluster) -> None:
    settings = Settings.load(
        {
            "REDIS_URL": cluster.nodes.seed_url,
            "REDIS_CLUSTER": "on",
            "PEERLINE_ID_SECRET": "cluster-test-secret-0123456789ab",
            "PEERLINE_REDIS_PREFIX": cluster.prefix,
        }
    )
    assert settings.redis_cluster
    store = open_store(settings)
    try:
        assert isinstance(store, RedisStore) and isinstance(store.client, RedisCluster)
        await store.save(USER, Session(region="ie"))
        assert await store.load(USER) == Session(region="ie")
        assert await store.count_message(USER, 60) == 1
    finally:
        await store.close()


async def test_fifty_concurrent_claims_from_two_processes_have_exactly_one_winner(cluster: OnCluster) -> None:
    other_process = open_redis(cluster.nodes.url)  # a second bot process has its own client
    try:
        queues = [cluster.queue(), cluster.queue(other_process)]
        record = handoff(USER, HandoffQueue.new_ticket())
        await queues[0].open(record)
        assert await queues[1].position(USER) == 1

        results = await asyncio.gather(
            *(queues[n % 2].claim(record, f"supporter{n}", f"Sam {n}", 2_000.0 + n) for n in range(50))
        )

        winners = [n for n, (status, _) in enumerate(results) if status == "claimed"]
        assert len(winners) == 1, results
        [winner] = winners
        assert {status for status, _ in results} == {"claimed", "taken"}
        assert all(name == f"Sam {winner}" for _, name in results), "losers are told who has it"
        for queue in queues:
            stored = await queue.get(USER)
            assert stored is not None and stored.claimed and stored.owner == f"supporter{winner}"
            assert await queue.position(USER) is None and await queue.waiting() == []
    finally:
        await other_process.aclose()


async def test_forget_on_a_cluster_deletes_every_key_of_the_person(cluster: OnCluster) -> None:
    store = RedisStore(cluster.client, TTL, prefix=cluster.prefix)
    queue = cluster.queue()
    for user in (USER, OTHER_USER):
        await store.save(user, Session(region="uk"))
        await store.count_message(user, 60)
        record = handoff(user, HandoffQueue.new_ticket())
        await queue.open(record)
        await queue.set_topic(record, topic=hash(user) % 10_000, card=7)
    await queue.block(USER, "fox1")  # a supporter blocked them earlier
    await queue.ask_feedback(USER)  # an earlier conversation asked whether it helped
    await queue.note_topic_opened(USER, 42)  # their last topic, reused if they ask again soon
    await queue.first_crisis_alert(USER)  # a crisis alert was pinned for them
    mine = await queue.get(USER)
    assert mine is not None
    before = await cluster.keys()
    assert {key_for(cluster.prefix, USER, kind) for kind in USER_KEY_KINDS} <= set(before)

    # What /forget does: close the handoff (queue entry, lookups, record), then delete every per-user key.
    await queue.close(USER, mine)
    await store.forget(USER)

    after = await cluster.keys()
    assert not [k for k in after if USER in k], after
    for kind in USER_KEY_KINDS:
        assert not await cluster.client.exists(key_for(cluster.prefix, USER, kind)), kind
    assert await queue.by_ticket(mine.ticket) is None
    assert mine.topic is not None and await queue.by_topic(mine.topic) is None
    assert [r.user for r in await queue.active()] == [OTHER_USER]
    assert await queue.position(USER) is None
    assert await store.load(OTHER_USER) == Session(region="uk"), "forget touches only that person"
    theirs = await queue.get(OTHER_USER)
    assert theirs is not None and await queue.by_ticket(theirs.ticket) == theirs


async def test_handoff_lookups_release_block_and_close_work_on_a_cluster(cluster: OnCluster) -> None:
    queue = cluster.queue()
    calm = handoff(USER, HandoffQueue.new_ticket(), since=1_000.0)
    urgent = handoff(OTHER_USER, HandoffQueue.new_ticket(), since=2_000.0, crisis=True)
    await queue.open(calm)
    await queue.open(urgent)
    assert [r.user for r in await queue.waiting()] == [OTHER_USER, USER], "crisis first"
    assert await queue.by_ticket(calm.ticket) == calm

    calm = await queue.set_topic(calm, topic=4242, card=99)
    assert await queue.by_topic(4242) == calm
    assert (await queue.claim(calm, "supporterA", "Ana", 1_500.0))[0] == "claimed"
    assert [r.user for r in await queue.waiting()] == [OTHER_USER]
    claimed = await queue.get(USER)
    assert claimed is not None
    released = await queue.release(claimed, 1_600.0)
    assert not released.claimed and await queue.position(USER) == 2
    await queue.mark_crisis(released)
    assert await queue.position(USER) == 1, "now a crisis that waited longest"

    await queue.set_supporter_name("supporterA", "Ana")
    assert await queue.supporter_name("supporterA") == "Ana"
    await queue.block(USER, "Fox1")
    assert await queue.is_blocked(USER)
    assert await queue.unblock("fox1") is True
    assert not await queue.is_blocked(USER) and await queue.unblock("fox1") is False
    assert await queue.try_lock("sweep", 5) is True and await queue.try_lock("sweep", 5) is False

    for user in (USER, OTHER_USER):
        await queue.close(user)
    assert await queue.active() == [] and await queue.waiting() == []
    assert await queue.by_ticket(calm.ticket) is None and await queue.by_topic(4242) is None


async def test_usage_statistics_round_trip_on_a_cluster(cluster: OnCluster) -> None:
    stats = UsageStats(cluster.client, cluster.prefix, Clock(LATE_EVENING))
    await stats.record_update("naloxone", fallback=False, crisis=False)
    await stats.record_update(None, fallback=True, crisis=False)
    await stats.record_update("crisis_overdose", fallback=False, crisis=True)
    await stats.record_handoff_requested()
    for wait in (30.0, 90.0, 600.0):
        await stats.record_handoff_claimed(wait)  # one Lua script over the day's two keys
    await stats.record_feedback(helpful=True)

    [day] = await stats.read(1)
    assert (day.messages, day.fallbacks, day.crisis) == (3, 1, 1)
    assert (day.handoffs_requested, day.handoffs_claimed, day.median_wait) == (1, 3, 90.0)
    assert day.intents == {"crisis_overdose": 1, "naloxone": 1} and day.feedback_helpful == 1
    assert not stats._health.failing


async def test_unmatched_messages_round_trip_on_a_cluster(cluster: OnCluster) -> None:
    log = UnmatchedLog(cluster.client, cluster.prefix, Clock(LATE_EVENING))
    await log.record("call me on 07700900123 about strips")
    await log.record("where do i get fentanyl strips")
    assert sorted(await log.read()) == ["call me on [number] about strips", "where do i get fentanyl strips"]
    assert not log._health.failing


async def test_a_reload_reaches_another_process_through_the_cluster(
    cluster: OnCluster, tmp_path: Path
) -> None:
    first_root = write_minimal_content(tmp_path / "one")
    second_root = tmp_path / "two"
    shutil.copytree(first_root, second_root)
    first, second = Engine(Brain.load(first_root)), Engine(Brain.load(second_root))
    other_process = open_redis(cluster.nodes.url)  # a fresh client: its pubsub must find the node itself
    first_bus = ReloadBus(cluster.client, cluster.prefix, ContentReloader(first_root, first), "one")
    second_bus = ReloadBus(other_process, cluster.prefix, ContentReloader(second_root, second), "two")
    stop = asyncio.Event()
    listeners = [asyncio.create_task(bus.listen(stop)) for bus in (first_bus, second_bus)]
    try:
        await asyncio.wait_for(first_bus.subscribed.wait(), 5)
        await asyncio.wait_for(second_bus.subscribed.wait(), 5)
        add_example(first_root)
        add_example(second_root)
        result = await first_bus.reloader.reload()
        assert result.ok
        assert await first_bus.publish_reload() == 1

        async def second_caught_up() -> bool:
            return second.brain.content.version == result.version

        await eventually(second_caught_up)

        async def board_agrees() -> bool:
            return {r.instance: r.version for r in await first_bus.versions()} == {
                "one": result.version,
                "two": result.version,
            }

        await first_bus.report_version()
        await eventually(board_agrees)
    finally:
        stop.set()
        await asyncio.gather(*listeners)
        await other_process.aclose()
