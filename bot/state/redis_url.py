"""Reading REDIS_URL: one Redis server, or a Redis Cluster named by ``redis+cluster://`` or REDIS_CLUSTER.

Pure parsing (no Redis client imported), so `bot.config` can validate the URL at start-up and
`bot.state.client` can open exactly what was validated.

    redis://[user:password@]host:port[/db]            one server (rediss:// for TLS, unix:///path.sock)
    redis+cluster://[user:password@]host:port[,host:port...]   a cluster, any of its nodes to start from
    rediss+cluster://...                              a cluster over TLS

With REDIS_CLUSTER=1 a ``redis://`` or ``rediss://`` URL names one node of a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

SERVER_SCHEMES = ("redis", "rediss", "unix")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
DEFAULT_PORT = 6379
URL_EXAMPLES = "e.g. redis://redis:6379/0, or redis+cluster://10.0.0.1:6379,10.0.0.2:6379 for a Redis Cluster"


@dataclass(frozen=True)
class ClusterTarget:
    """Where a Redis Cluster can be reached: the nodes to discover it from, and how to log in."""

    nodes: tuple[tuple[str, int], ...]
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def is_cluster_url(url: str) -> bool:
    """True for ``redis+cluster://`` and ``rediss+cluster://`` URLs."""
    return urlsplit(url).scheme.lower() in CLUSTER_SCHEMES


def check_redis_url(url: str, cluster: bool) -> str | None:
    """What is wrong with this REDIS_URL (with REDIS_CLUSTER set to `cluster`), or None if it can be used."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in (*SERVER_SCHEMES, *CLUSTER_SCHEMES):
        return f"must start with redis://, rediss://, unix:// or redis+cluster:// ({URL_EXAMPLES})"
    if not (cluster or scheme in CLUSTER_SCHEMES):
        return None
    try:
        cluster_target(url)
    except ValueError as exc:
        return str(exc)
    return None


def cluster_target(url: str) -> ClusterTarget:
    """The cluster a redis+cluster:// URL (or with REDIS_CLUSTER a redis:// URL) names; else ValueError."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "unix":
        raise ValueError("names a Unix socket, but a Redis Cluster is reached over TCP; use redis+cluster://")
    if scheme not in ("redis", "rediss", *CLUSTER_SCHEMES):
        raise ValueError(f"must start with redis+cluster:// for a Redis Cluster ({URL_EXAMPLES})")
    if parts.path.strip("/") not in ("", "0"):
        raise ValueError("selects a database, but a Redis Cluster has only database 0; remove the /N")
    if parts.query:
        raise ValueError("has ?options, which a Redis Cluster URL does not take; remove them")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = tuple(_node(host) for host in hosts.split(","))
    return ClusterTarget(
        nodes=nodes,
        tls=scheme.startswith("rediss"),
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


def _node(text: str) -> tuple[str, int]:
    host, port = text.strip(), ""
    if host.startswith("["):  # [IPv6]:port
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    elif ":" in host:
        host, _, port = host.rpartition(":")
    if not host:
        raise ValueError(f"names an empty node ({text!r}); list nodes as host:port,host:port")
    if not port:
        return host, DEFAULT_PORT
    if not port.isdigit() or not 1 <= int(port) <= 65_535:
        raise ValueError(f"has a bad port in {text!r}; use host:port with a port from 1 to 65535")
    return host, int(port)
