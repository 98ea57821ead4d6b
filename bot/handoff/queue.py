"""`HandoffQueue`: handoff records, the waiting queue and the claim, in Redis, shared by every bot process.

Key schema (``user`` is a `KeyRing.key`; supporters are keyed the same way)::

    {prefix}:{<user>}:handoff         hash     the `Handoff` record          EX ttl, refreshed on activity
    {prefix}:{<user>}:blocked         string   the blocked conversation's name: no supporters  EX block ttl
    {prefix}:{<user>}:group           list     "t:<topic>", "m:<topic>:<message>": what /forget deletes
                                               in the supporters' group          EX group trace ttl
    {prefix}:hq:{queue}               zset     user -> rank (crisis first, then oldest)
    {prefix}:hq:{active}              zset     user -> since, every open handoff (for sweeps and /mine)
    {prefix}:hq:ticket:{<ticket>}     string   user, for the card's buttons   EX ttl
    {prefix}:hq:topic:{<thread id>}   string   user, for messages in a topic  EX ttl
    {prefix}:hq:alias:{<name>}        string   user, for /unblock NAME (a conversation name)  EX block ttl
    {prefix}:hq:supporter:{<key>}     string   the supporter's display name   EX one year
    {prefix}:hq:{closed}              zset     topic id -> when its conversation ended (deleted later)

Every command and Lua script touches one key (or keys of one hash-tagged slot), so it works on Redis Cluster
too; the claim is one Lua script on the record, atomic across any number of bot processes. Pipelines that
span slots are non-transactional (a cluster client sends each part to its node).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

from bot.handoff.record import Handoff
from bot.state.client import RedisClient, decode
from bot.state.guard import store_errors
from bot.state.redis import key_for

SUPPORTER_NAME_TTL = 365 * 24 * 3600
GROUP_TRACE_TTL = 90 * 24 * 3600  # how long /forget can still find a person's topics in the group
FEEDBACK_TTL = 24 * 3600  # an answer to the feedback question a day later is not counted
TOPIC_COOLDOWN = 180  # one new topic per person per 3 minutes; a request meanwhile reuses the last one
CRISIS_ALERT_COOLDOWN = 600  # one pinned crisis alert per person per 10 minutes (the card stays 🚨)
CRISIS_RANK_OFFSET = 1e12  # crisis ranks sort before every ordinary wait (Unix times are ~1.8e9)

ClaimResult = Literal["claimed", "taken", "gone"]

# KEYS[1] record; ARGV owner, owner_name, now. Returns {status, current owner name}.
_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'gone', ''} end
if state == 'claimed' then return {'taken', redis.call('HGET', KEYS[1], 'owner_name') or ''} end
redis.call('HSET', KEYS[1], 'state', 'claimed', 'owner', ARGV[1], 'owner_name', ARGV[2],
  'claimed_at', ARGV[3], 'last_supporter', '0', 'silence_alerted', '0', 'idle_reminded', '0')
return {'claimed', ARGV[2]}
"""
# KEYS[1] record; ARGV ticket, then field/value pairs. Updates only the handoff this ticket names, so a
# late write from an ended conversation cannot resurrect fields on a new one.
_UPDATE = """
if redis.call('HGET', KEYS[1], 'ticket') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


@dataclass(frozen=True)
class GroupTrace:
    """Where a person's conversations are in the supporters' group: their topics, and the messages in each
    (the card, copies of what they sent, supporters' replies), for when a topic can't be deleted whole."""

    topics: tuple[int, ...] = ()
    messages: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, entries: list[str]) -> GroupTrace:
        topics: list[int] = []
        messages: dict[int, list[int]] = {}
        for entry in entries:
            kind, _, rest = entry.partition(":")
            try:
                if kind == "t" and int(rest) not in topics:
                    topics.append(int(rest))
                elif kind == "m":
                    where, _, message = rest.partition(":")
                    messages.setdefault(int(where), []).append(int(message))
            except ValueError:
                continue  # not ours: skip it rather than fail a /forget
        for topic in messages:
            if topic not in topics:
                topics.append(topic)
        return cls(tuple(topics), {t: tuple(m) for t, m in messages.items()})


class HandoffQueue:
    """Handoff records and indexes in Redis; raises `StoreUnavailable` when Redis can't be reached."""

    def __init__(self, client: RedisClient, prefix: str, ttl_seconds: int, block_ttl_seconds: int) -> None:
        self.redis = client
        self.prefix = prefix
        self.ttl = ttl_seconds
        self.block_ttl = block_ttl_seconds
        self._claim = client.register_script(_CLAIM)
        self._update = client.register_script(_UPDATE)

    # -- keys ---------------------------------------------------------------------------

    def record_key(self, user: str) -> str:
        return key_for(self.prefix, user, "handoff")

    def _global(self, name: str) -> str:
        return f"{self.prefix}:hq:{{{name}}}"

    def _lookup(self, kind: str, value: str) -> str:
        return f"{self.prefix}:hq:{kind}:{{{value}}}"

    # -- records ------------------------------------------------------------------------

    @staticmethod
    def new_ticket() -> str:
        return secrets.token_hex(6)

    async def get(self, user: str) -> Handoff | None:
        with store_errors("the handoff queue"):
            raw = await self.redis.hgetall(self.record_key(user))
        decoded = {decode(k): decode(v) for k, v in raw.items()}
        return Handoff.from_hash(user, decoded) if decoded else None

    async def open(self, record: Handoff) -> None:
        """Store a new waiting handoff and queue it (crisis first)."""
        key = self.record_key(record.user)
        with store_errors("the handoff queue"):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping=record.to_hash())  # type: ignore[arg-type]
                pipe.expire(key, self.ttl)
                pipe.set(self._lookup("ticket", record.ticket), record.user, ex=self.ttl)
                pipe.zadd(self._global("queue"), {record.user: self.rank(record)})
                pipe.zadd(self._global("active"), {record.user: record.since})
                await pipe.execute()

    @staticmethod
    def rank(record: Handoff) -> float:
        return record.since - (CRISIS_RANK_OFFSET if record.crisis else 0.0)

    async def update(self, record: Handoff, **fields: object) -> Handoff:
        """Write some fields of this handoff (only if it is still the same ticket) and refresh its TTL."""
        changed, _ = await self._write(record, fields)
        return changed

    async def _write(self, record: Handoff, fields: dict[str, object]) -> tuple[Handoff, bool]:
        """`update`, also saying whether the record was still there to write to."""
        changed = record.with_changes(**fields)
        flat: list[str] = [record.ticket]
        encoded = changed.to_hash()
        for name in fields:
            flat += [name, encoded.get(name, "")]
        key = self.record_key(record.user)
        with store_errors("the handoff queue"):
            written = bool(await self._update(keys=[key], args=flat))
            if written:
                await self.redis.expire(key, self.ttl)
        return changed, written

    async def set_topic(self, record: Handoff, topic: int, card: int | None) -> Handoff:
        """Point the handoff at a (new) forum topic and its card."""
        changed = await self.update(record, topic=topic, card=card)
        with store_errors("the handoff queue"):
            await self.redis.set(self._lookup("topic", str(topic)), record.user, ex=self.ttl)
        await self.remember_in_group(record.user, topic, *([] if card is None else [card]))
        return changed

    async def remember_in_group(self, user: str, topic: int, *messages: int) -> None:
        """Note a topic (and messages in it) of the person's, so /forget can delete them from the group."""
        key = key_for(self.prefix, user, "group")
        entries = [f"t:{topic}", *(f"m:{topic}:{m}" for m in messages)]
        with store_errors("the handoff queue"):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.rpush(key, *entries)
                pipe.expire(key, GROUP_TRACE_TTL)
                await pipe.execute()

    async def take_group_trace(self, user: str) -> GroupTrace:
        """Read and delete the person's trace in the group (the deletes in the group come after)."""
        key = key_for(self.prefix, user, "group")
        with store_errors("the handoff queue"):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.lrange(key, 0, -1)
                pipe.delete(key)
                entries, _ = await pipe.execute()
        return GroupTrace.parse([decode(e) for e in entries])

    async def claim(
        self, record: Handoff, owner: str, owner_name: str, now: float
    ) -> tuple[ClaimResult, str]:
        """Atomically make `owner` the one supporter of a waiting handoff; else who has it."""
        with store_errors("the handoff queue"):
            status, name = await self._claim(
                keys=[self.record_key(record.user)], args=[owner, owner_name, repr(now)]
            )
            result: ClaimResult = (
                "claimed"
                if decode(status) == "claimed"
                else ("taken" if decode(status) == "taken" else "gone")
            )
            if result == "claimed":
                await self.redis.zrem(self._global("queue"), record.user)
        return result, decode(name)

    async def release(self, record: Handoff, now: float) -> Handoff | None:
        """Back to the queue for another supporter, keeping its place by original wait (crisis first).

        None if the conversation has ended meanwhile: nothing is queued for it.
        """
        fields: dict[str, object] = {
            "state": "waiting",
            "owner": "",
            "owner_name": "",
            "claimed_at": 0.0,
            "alerts": 0,
            "wait_notified": False,
        }
        changed, written = await self._write(record, fields)
        if not written:
            return None
        await self._requeue(changed, only_if_queued=False)
        return changed

    async def mark_crisis(self, record: Handoff) -> Handoff | None:
        """Flag the handoff as a crisis (a waiting one moves to the front); None if it has ended meanwhile."""
        changed, written = await self._write(record, {"crisis": True})
        if not written:
            return None
        # XX: only a conversation still in the queue moves; a claim or close meanwhile has taken it out.
        await self._requeue(changed, only_if_queued=True)
        return changed

    async def _requeue(self, record: Handoff, *, only_if_queued: bool) -> None:
        """Rank the record in the queue; if it was closed meanwhile, leave no entry behind for it.

        The record and the queue are in different slots, so this can't be one script: the record is
        checked after the write instead, and a close that comes later removes the entry itself.
        """
        with store_errors("the handoff queue"):
            await self.redis.zadd(self._global("queue"), {record.user: self.rank(record)}, xx=only_if_queued)
            ticket = await self.redis.hget(self.record_key(record.user), "ticket")
        if ticket is None or decode(ticket) != record.ticket:
            await self._sync_queue_entry(record.user)

    async def _sync_queue_entry(self, user: str) -> None:
        """Make the user's queue entry match their record now: ranked if waiting, else none."""
        current = await self.get(user)
        with store_errors("the handoff queue"):
            if current is None or current.claimed:
                await self.redis.zrem(self._global("queue"), user)
            else:
                await self.redis.zadd(self._global("queue"), {user: self.rank(current)})

    async def close(self, user: str, record: Handoff | None = None) -> None:
        """Remove the handoff, its queue entry and lookups; the person's chat id goes with the record."""
        record = record or await self.get(user)
        with store_errors("the handoff queue"):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.delete(self.record_key(user))
                pipe.zrem(self._global("queue"), user)
                pipe.zrem(self._global("active"), user)
                if record:
                    pipe.delete(self._lookup("ticket", record.ticket))
                    if record.topic is not None:
                        pipe.delete(self._lookup("topic", str(record.topic)))
                await pipe.execute()

    # -- lookups ------------------------------------------------------------------------

    async def by_ticket(self, ticket: str) -> Handoff | None:
        with store_errors("the handoff queue"):
            user = await self.redis.get(self._lookup("ticket", ticket))
        record = await self.get(decode(user)) if user else None
        return record if record and record.ticket == ticket else None

    async def by_topic(self, topic: int) -> Handoff | None:
        with store_errors("the handoff queue"):
            user = await self.redis.get(self._lookup("topic", str(topic)))
        record = await self.get(decode(user)) if user else None
        return record if record and record.topic == topic else None

    async def waiting(self) -> list[Handoff]:
        """Waiting handoffs, crisis first then oldest; entries whose record expired are dropped."""
        with store_errors("the handoff queue"):
            users = [decode(u) for u in await self.redis.zrange(self._global("queue"), 0, -1)]
        found = [r for r in [await self.get(u) for u in users] if r and not r.claimed]
        return found

    async def position(self, user: str) -> int | None:
        """1 for the front of the queue."""
        with store_errors("the handoff queue"):
            rank = await self.redis.zrank(self._global("queue"), user)
        return rank + 1 if isinstance(rank, int) else None

    async def active(self) -> list[Handoff]:
        """Every open handoff; users whose record has expired are cleaned out of the indexes."""
        with store_errors("the handoff queue"):
            users = [decode(u) for u in await self.redis.zrange(self._global("active"), 0, -1)]
        records: list[Handoff] = []
        for user in users:
            record = await self.get(user)
            if record is None:
                await self.close(user)
            else:
                records.append(record)
        return records

    # -- supporters and blocks ----------------------------------------------------------

    async def supporter_name(self, supporter: str) -> str:
        with store_errors("the handoff queue"):
            name = await self.redis.get(self._lookup("supporter", supporter))
        return decode(name) if name else ""

    async def set_supporter_name(self, supporter: str, name: str) -> None:
        with store_errors("the handoff queue"):
            await self.redis.set(self._lookup("supporter", supporter), name, ex=SUPPORTER_NAME_TTL)

    async def block(self, user: str, conversation_name: str) -> None:
        with store_errors("the handoff queue"):
            # The block remembers its conversation name, so /forget can remove the name's lookup with it.
            await self.redis.set(key_for(self.prefix, user, "blocked"), conversation_name, ex=self.block_ttl)
            await self.redis.set(self._lookup("alias", conversation_name.lower()), user, ex=self.block_ttl)

    async def name_in_use(self, conversation_name: str) -> bool:
        """True if a block already answers to this name (a new conversation then draws another)."""
        with store_errors("the handoff queue"):
            return bool(await self.redis.exists(self._lookup("alias", conversation_name.lower())))

    async def forget_block(self, user: str) -> None:
        """Remove the person's block and its name lookup (for /forget: nothing about them stays)."""
        with store_errors("the handoff queue"):
            name = await self.redis.get(key_for(self.prefix, user, "blocked"))
            if name:
                lookup = self._lookup("alias", decode(name).lower())
                owner = await self.redis.get(lookup)
                if owner is not None and decode(owner) == user:
                    await self.redis.delete(lookup)
            await self.redis.delete(key_for(self.prefix, user, "blocked"))

    async def unblock(self, conversation_name: str) -> bool:
        with store_errors("the handoff queue"):
            user = await self.redis.get(self._lookup("alias", conversation_name.lower()))
            if not user:
                return False
            # Two slots (the user's and the name's): two DELs, which a cluster sends each to its node.
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.delete(key_for(self.prefix, decode(user), "blocked"))
                pipe.delete(self._lookup("alias", conversation_name.lower()))
                await pipe.execute()
        return True

    async def topic_ended(self, topic: int, when: float) -> None:
        """Note when a topic's conversation ended: the sweep deletes it from the group after the retention."""
        with store_errors("the handoff queue"):
            await self.redis.zadd(self._global("closed"), {str(topic): when})

    async def topics_ended_before(self, when: float) -> list[int]:
        with store_errors("the handoff queue"):
            raw = await self.redis.zrangebyscore(self._global("closed"), "-inf", when, start=0, num=50)
        return [int(decode(t)) for t in raw if decode(t).lstrip("-").isdigit()]

    async def forget_topics(self, *topics: int) -> None:
        """Deleted (or in use again): no longer due for deletion."""
        if topics:
            with store_errors("the handoff queue"):
                await self.redis.zrem(self._global("closed"), *[str(t) for t in topics])

    async def recent_topic(self, user: str) -> int | None:
        """The person's topic if one was opened for them in the last `TOPIC_COOLDOWN` seconds."""
        with store_errors("the handoff queue"):
            raw = await self.redis.get(key_for(self.prefix, user, "topic_cooldown"))
        text = decode(raw) if raw else ""
        return int(text) if text.lstrip("-").isdigit() else None

    async def note_topic_opened(self, user: str, topic: int) -> None:
        with store_errors("the handoff queue"):
            await self.redis.set(key_for(self.prefix, user, "topic_cooldown"), str(topic), ex=TOPIC_COOLDOWN)

    async def first_crisis_alert(self, user: str) -> bool:
        """True if no crisis alert was pinned for the person in the last `CRISIS_ALERT_COOLDOWN` seconds."""
        key = key_for(self.prefix, user, "crisis_cooldown")
        with store_errors("the handoff queue"):
            return bool(await self.redis.set(key, "1", nx=True, ex=CRISIS_ALERT_COOLDOWN))

    async def ask_feedback(self, user: str) -> None:
        """The person was asked whether the conversation helped: one answer, within a day, counts."""
        with store_errors("the handoff queue"):
            await self.redis.set(key_for(self.prefix, user, "feedback"), "1", ex=FEEDBACK_TTL)

    async def take_feedback(self, user: str) -> bool:
        """True once per question asked (so forged or repeated presses are not counted)."""
        with store_errors("the handoff queue"):
            return bool(await self.redis.getdel(key_for(self.prefix, user, "feedback")))

    async def is_blocked(self, user: str) -> bool:
        with store_errors("the handoff queue"):
            return bool(await self.redis.exists(key_for(self.prefix, user, "blocked")))

    async def try_lock(self, name: str, seconds: float) -> bool:
        """A short lock so that only one process runs a periodic duty at a time."""
        with store_errors("the handoff queue"):
            return bool(
                await self.redis.set(self._lookup("lock", name), "1", nx=True, px=int(seconds * 1000))
            )
