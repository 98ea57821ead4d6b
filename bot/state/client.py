"""Opening Redis from REDIS_URL: one server or a Redis Cluster, behind one client type.

Everything that talks to Redis (`RedisStore`, `HandoffQueue`, `UsageStats`, `UnmatchedLog`, `ReloadBus`)
takes a `RedisClient` and uses only commands that work the same on both: one key per command, or several
keys that share a ``{hash tag}`` (one cluster slot); atomic writes are Lua scripts on keys of one slot;
anything wider is a non-transactional pipeline, which a cluster client splits by node.

No MULTI/EXEC pipelines: redis-py's async cluster client (8.1) runs every command queued in one in a new
thread with its own event loop, which fails outright on a client that has not connected yet.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisClusterException, RedisError
from redis.typing import EncodableT

from bot.state.redis_url import cluster_target, is_cluster_url

RedisClient: TypeAlias = Redis | RedisCluster
"""A client for one Redis server or for a Redis Cluster."""

REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, RedisClusterException, OSError)
"""What a Redis call raises when the server or cluster can't serve it (a cluster's "no node" is not a
RedisError, so it is listed on its own)."""


def decode(value: object) -> str:
    """A Redis reply as text: the clients are opened without `decode_responses`, so replies are bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


DEFAULT_TIMEOUT_SECONDS = 2.0
# Connections per process (per node on a cluster). redis-py's default pool refuses the 101st concurrent
# command at once (MaxConnectionsError), which under a burst looked like an outage and lost sessions; a
# blocking pool makes a command wait for a free connection instead, up to the timeout.
MAX_CONNECTIONS = 128


class ClusterClient(RedisCluster):
    """A `RedisCluster` that loads the cluster's slot map before the first command is routed.

    redis-py (8.1) routes a command before loading the map, so a burst of first commands (a bot's first
    updates after start-up) races the loading and fails with "Connection closed by server"; loading
    first (`initialize` is locked and does nothing once done) makes every one of them wait for it.
    """

    async def execute_command(self, *args: EncodableT, **kwargs: Any) -> Any:
        await self.initialize()
        return await super().execute_command(*args, **kwargs)


def _retry() -> Retry:
    return Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=1)


def open_redis(
    url: str, *, cluster: bool = False, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> RedisClient:
    """A client with its own connections, created once per process; nothing connects until first use.

    A cluster is used when the URL is ``redis+cluster://`` or `cluster` is set (REDIS_CLUSTER=1).
    Timeouts and retries are short on purpose: a user waiting on a reply is better served by an answer
    without memory than by a long wait for Redis.
    """
    if cluster or is_cluster_url(url):
        target = cluster_target(url)
        return ClusterClient(
            startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
            username=target.username,
            password=target.password,
            ssl=target.tls,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=_retry(),
            max_connections=MAX_CONNECTIONS,
        )
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=_retry(),
    )
    # from_pool: the client owns the pool, so aclose() releases it.
    return Redis.from_pool(pool)
