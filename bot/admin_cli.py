"""The admins' `peerline` sub-commands that read Redis or measure content: stats, unmatched, coverage."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.config import DEFAULT_REDIS_PREFIX
from bot.errors import PeerlineError
from bot.state.redis_url import check_redis_url

if TYPE_CHECKING:
    from bot.state.client import RedisClient

T = TypeVar("T")


def _redis_target(args: argparse.Namespace) -> tuple[str, str, bool]:
    """The URL, key prefix and whether the URL names a Redis Cluster (redis+cluster:// or REDIS_CLUSTER)."""
    url = args.redis_url or os.environ.get("REDIS_URL")
    if not url:
        raise PeerlineError("no Redis to read: set REDIS_URL or pass --redis-url redis://host:6379/0")
    cluster = os.environ.get("REDIS_CLUSTER", "").strip().lower() in ("on", "true", "yes", "1")
    problem = check_redis_url(url, cluster)
    if problem:
        raise PeerlineError(f"the Redis URL {problem}")
    prefix = args.prefix or os.environ.get("PEERLINE_REDIS_PREFIX") or DEFAULT_REDIS_PREFIX
    return url, prefix, cluster


def _read_redis(args: argparse.Namespace, read: Callable[[RedisClient, str], Awaitable[T]]) -> T:
    """Run one read against the deployment's Redis (from the arguments or the environment), then close."""
    from bot.state.client import open_redis

    url, prefix, cluster = _redis_target(args)

    async def run() -> T:
        client = open_redis(url, cluster=cluster, timeout_seconds=3)
        try:
            return await read(client, prefix)
        finally:
            await client.aclose()

    return asyncio.run(run())


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.usage import UsageStats, format_usage_table

    days: list[Any] = _read_redis(args, lambda client, prefix: UsageStats(client, prefix).read(args.days))
    print(format_usage_table(days))
    if args.png:
        from bot.charts import usage_png

        Path(args.png).write_bytes(usage_png(days))
        print(f"chart written to {args.png}", file=sys.stderr)
    return 0


def cmd_unmatched(args: argparse.Namespace) -> int:
    from bot.usage.clusters import cluster_texts
    from bot.usage.unmatched import UnmatchedLog

    texts = _read_redis(args, lambda client, prefix: UnmatchedLog(client, prefix).read(args.days))
    groups = cluster_texts(texts)
    if args.json:
        rows = [{"count": g.count, "examples": list(g.examples)} for g in groups]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not texts:
        print("no unmatched messages kept (PEERLINE_KEEP_UNMATCHED is off, or nothing fell back)")
        return 0
    print(f"{len(texts)} unmatched message(s) in {len(groups)} group(s), most frequent first:")
    for group in groups:
        print(f"{group.count:>5}  " + "  |  ".join(group.examples))
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from bot.cli import _brain
    from bot.nlu.separation import format_separation, intent_separation

    brain = _brain(args)
    codes = [args.locale] if args.locale else sorted(brain.content.locales)
    for code in codes:
        if code not in brain.matchers:
            known = ", ".join(sorted(brain.matchers))
            raise PeerlineError(f"unknown locale '{code}'; the content has {known}")
    tables = {code: intent_separation(brain.matchers[code]) for code in codes}
    if args.json:
        data = {code: [row.as_json() for row in rows] for code, rows in tables.items()}
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(format_separation(code, rows) for code, rows in tables.items()))
    return 0


def _add_redis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis-url", help="default: $REDIS_URL")
    parser.add_argument("--prefix", help="Redis key prefix (default: $PEERLINE_REDIS_PREFIX or pl)")


def add_admin_commands(sub: Any) -> None:
    """Add `stats`, `unmatched` and `coverage` to the `peerline` command's sub-commands."""
    stats = sub.add_parser("stats", help="usage per day from Redis: a table, and a chart with --png")
    stats.add_argument("--days", type=int, default=14, help="how many days back, today included (default 14)")
    stats.add_argument("--png", metavar="OUT", help="also draw the chart into this PNG file")
    _add_redis_options(stats)
    stats.set_defaults(func=cmd_stats)

    unmatched = sub.add_parser("unmatched", help="kept unmatched messages, grouped by similarity")
    unmatched.add_argument("--days", type=int, default=7, help="how many days back (at most 7)")
    unmatched.add_argument("--json", action="store_true")
    _add_redis_options(unmatched)
    unmatched.set_defaults(func=cmd_unmatched)

    coverage = sub.add_parser("coverage", help="how well each intent's examples stand apart, worst first")
    coverage.add_argument("--locale", help="one locale (default: every locale)")
    coverage.add_argument("--json", action="store_true")
    coverage.set_defaults(func=cmd_coverage)
