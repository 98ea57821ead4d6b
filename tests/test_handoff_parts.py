"""The handoff's pure parts: opening hours, timer duties, the stored record,
and the queue's claim on a real Redis."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from bot.errors import ConfigError
from bot.handoff.queue import HandoffQueue
from bot.handoff.record import Handoff
from bot.handoff.timers import Duty, HandoffLimits, duties
from bot.hours import parse_week
from bot.telegram.supporters import CARD_BUTTON_PATTERN

SECRET = "a-deployment-secret-0123456789"
USER = "0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_opening_hours_in_a_time_zone_across_midnight_and_the_week() -> None:
    hours = parse_week("mon-fri 09:00-17:00; sat 20:00-02:00", "America/New_York")
    assert hours.is_open(at("2027-01-15T14:00:00+00:00"))  # Friday 09:00 in New York
    assert not hours.is_open(at("2027-01-15T13:59:00+00:00"))
    assert hours.is_open(at("2027-01-17T06:30:00+00:00"))  # Sunday 01:30 NY, from Saturday's shift
    assert not hours.is_open(at("2027-01-17T07:00:00+00:00"))  # Sunday 02:00 NY: closed
    nxt = hours.next_opening(at("2027-01-17T07:00:00+00:00"))
    assert nxt is not None and (nxt.strftime("%a %H:%M"), str(nxt.tzinfo)) == (
        "Mon 09:00",
        "America/New_York",
    )
    assert hours.next_opening(at("2027-01-15T15:00:00+00:00")) is None  # open now


def test_empty_opening_hours_mean_always_open() -> None:
    hours = parse_week("")
    assert hours.always_open and hours.is_open(datetime.now(UTC))


@pytest.mark.parametrize(
    ("spec", "zone", "complaint"),
    [
        ("mon-fri 9-5", "UTC", "HH:MM-HH:MM"),
        ("someday 09:00-17:00", "UTC", "days are mon"),
        ("mon 09:00-25:00", "UTC", "not a time of day"),
        ("mon 24:30-24:59", "UTC", "not a time of day"),
        ("mon 24:00-02:00", "UTC", "starts at 24:00"),
        ("mon 09:00-17:00", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_bad_opening_hours_say_how_to_write_them(spec: str, zone: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        parse_week(spec, zone)


def record(**changes: object) -> Handoff:
    return Handoff(
        user=USER, ticket="t1", conversation_name="Calm Bear 0001", chat="sealed", since=NOW
    ).with_changes(**changes)


LIMITS = HandoffLimits(
    realert_after=100, tell_person_after=300, silence_after=200, idle_after=600, return_after=300
)


def test_waiting_duties_realert_each_period_and_tell_the_person_once() -> None:
    assert duties(record(), NOW + 99, LIMITS) == []
    assert duties(record(), NOW + 100, LIMITS) == [Duty.REALERT]
    assert duties(record(alerts=1), NOW + 150, LIMITS) == []
    assert duties(record(alerts=2), NOW + 300, LIMITS) == [Duty.REALERT, Duty.TELL_PERSON]
    assert duties(record(alerts=3, wait_notified=True), NOW + 350, LIMITS) == []


def test_claimed_duties_silence_then_idle_then_return() -> None:
    claimed = record(state="claimed", claimed_at=NOW, last_person=NOW + 10)
    assert duties(claimed, NOW + 209, LIMITS) == []
    assert duties(claimed, NOW + 210, LIMITS) == [Duty.SILENCE_ALERT]
    answered = claimed.with_changes(last_supporter=NOW + 20)
    assert duties(answered, NOW + 300, LIMITS) == []
    assert duties(answered, NOW + 620, LIMITS) == [Duty.IDLE_REMINDER]
    reminded = answered.with_changes(idle_reminded=True)
    assert duties(reminded, NOW + 919, LIMITS) == []
    assert duties(reminded, NOW + 920, LIMITS) == [Duty.RETURN_TO_BOT]
    # The person writing again resets the quiet: no return while they are still writing.
    assert duties(reminded.with_changes(last_person=NOW + 900), NOW + 920, LIMITS) == []


def test_record_round_trips_through_a_redis_hash_and_tolerates_damage() -> None:
    full = record(
        state="claimed",
        topic=42,
        card=43,
        crisis=True,
        region="uk",
        locale="es",
        intents=("naloxone", "methadone"),
        owner="abc",
        owner_name="Sam",
        claimed_at=NOW + 1,
        alerts=2,
        delayed=True,
    )
    raw = full.to_hash()
    assert all(isinstance(v, str) for v in raw.values())
    assert Handoff.from_hash(USER, raw) == full
    assert Handoff.from_hash(USER, {"ticket": "t1"}) is None
    odd = Handoff.from_hash(USER, {**raw, "topic": "x", "since": "soon", "alerts": ""})
    assert odd is not None and odd.topic is None and odd.alerts == 0


@pytest.fixture
def queue(redis: tuple[Redis, str]) -> HandoffQueue:
    client, prefix = redis
    return HandoffQueue(client, prefix, ttl_seconds=600, block_ttl_seconds=600)


async def test_claim_is_atomic_under_fifty_concurrent_claims(queue: HandoffQueue) -> None:
    waiting = record()
    await queue.open(waiting)
    results = await asyncio.gather(*(queue.claim(waiting, f"s{i}", f"Supporter {i}", NOW) for i in range(50)))
    winners = [r for r in results if r[0] == "claimed"]
    assert len(winners) == 1
    assert {r for r in results if r[0] == "taken"} == {("taken", winners[0][1])}
    assert await queue.position(USER) is None  # out of the queue


async def test_crisis_jumps_the_queue_and_release_keeps_the_original_place(queue: HandoffQueue) -> None:
    first = record(user="a" * 32, ticket="ta", since=NOW)
    second = record(user="b" * 32, ticket="tb", since=NOW + 60)
    await queue.open(first)
    await queue.open(second)
    assert [r.user for r in await queue.waiting()] == [first.user, second.user]
    await queue.mark_crisis(await queue.get(second.user) or second)
    assert [r.user for r in await queue.waiting()] == [second.user, first.user]
    await queue.claim(first, "s1", "Sam", NOW + 120)
    assert [r.user for r in await queue.waiting()] == [second.user]
    await queue.release(await queue.get(first.user) or first, NOW + 200)
    assert [r.user for r in await queue.waiting()] == [second.user, first.user]


async def test_an_update_from_an_ended_handoff_does_not_resurrect_it(queue: HandoffQueue) -> None:
    old = record()
    await queue.open(old)
    await queue.close(USER, old)
    await queue.update(old, last_person=NOW + 5)
    assert await queue.get(USER) is None
    await queue.open(record(ticket="t2"))
    await queue.update(old, crisis=True)  # the old ticket: ignored
    current = await queue.get(USER)
    assert current is not None and current.ticket == "t2" and not current.crisis


async def test_expired_records_are_cleaned_out_of_the_indexes(queue: HandoffQueue) -> None:
    await queue.open(record())
    await queue.redis.delete(queue.record_key(USER))  # as if it expired
    assert await queue.active() == []
    assert await queue.waiting() == []


async def test_release_after_the_conversation_closed_queues_nothing(queue: HandoffQueue) -> None:
    await queue.open(record())
    await queue.claim(record(), "s1", "Sam", NOW + 10)
    stale = await queue.get(USER)
    assert stale is not None and stale.claimed
    await queue.close(USER, stale)  # e.g. the person sent /end while the supporter typed /release
    assert await queue.release(stale, NOW + 20) is None
    assert await queue.position(USER) is None
    assert await queue.redis.zcard(f"{queue.prefix}:hq:{{queue}}") == 0
    assert await queue.get(USER) is None


async def test_crisis_flag_after_the_conversation_closed_queues_nothing(queue: HandoffQueue) -> None:
    other = record(user="b" * 32, ticket="tb", since=NOW + 60)
    await queue.open(record())
    await queue.open(other)
    stale = await queue.get(USER)
    assert stale is not None
    await queue.close(USER, stale)
    assert await queue.mark_crisis(stale) is None
    assert await queue.position(USER) is None
    assert await queue.position(other.user) == 1
    assert await queue.get(USER) is None


@pytest.mark.parametrize("change", ["release", "mark_crisis"])
async def test_a_close_between_the_write_and_the_requeue_leaves_no_queue_entry(
    queue: HandoffQueue, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    await queue.open(record())
    if change == "release":
        await queue.claim(record(), "s1", "Sam", NOW + 10)
    current = await queue.get(USER)
    assert current is not None
    write = queue._write

    async def write_then_close(target: Handoff, fields: dict[str, object]) -> tuple[Handoff, bool]:
        result = await write(target, fields)
        await queue.close(USER)  # a concurrent close lands just after the record was written
        return result

    monkeypatch.setattr(queue, "_write", write_then_close)
    if change == "release":
        await queue.release(current, NOW + 20)
    else:
        await queue.mark_crisis(current)
    assert await queue.redis.zcard(f"{queue.prefix}:hq:{{queue}}") == 0


async def test_a_stale_crisis_flag_does_not_move_a_new_conversation_ahead(
    queue: HandoffQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = record(user="b" * 32, ticket="tb", since=NOW)
    await queue.open(other)
    await queue.open(record(since=NOW + 60))
    old = await queue.get(USER)
    assert old is not None
    write = queue._write

    async def write_then_reopen(target: Handoff, fields: dict[str, object]) -> tuple[Handoff, bool]:
        result = await write(target, fields)
        await queue.close(USER)  # ended and asked again: a new conversation, not a crisis
        await queue.open(record(ticket="t2", since=NOW + 90))
        return result

    monkeypatch.setattr(queue, "_write", write_then_reopen)
    await queue.mark_crisis(old)
    assert [r.user for r in await queue.waiting()] == [other.user, USER]
    current = await queue.get(USER)
    assert current is not None and current.ticket == "t2" and not current.crisis


@pytest.mark.parametrize("data", ["hc:abc123\n", "hx:abc123\n\n", "hc:ABC", "hc:", "hc:abc:x", "xhc:abc"])
def test_card_buttons_accept_only_exact_claim_and_close_data(data: str) -> None:
    """Review finding 17: `$` let a trailing newline through."""
    assert re.match(CARD_BUTTON_PATTERN, data) is None
    assert re.match(CARD_BUTTON_PATTERN, "hc:abc123") and re.match(CARD_BUTTON_PATTERN, "hx:0f")


async def test_a_blocked_alias_is_never_handed_to_another_person_and_forget_removes_only_its_own(
    queue: HandoffQueue,
) -> None:
    """Review finding 17: with colliding aliases, a second /block took over `/unblock NAME`."""
    other = "fedcba9876543210fedcba9876543210"
    await queue.block(USER, "Calm Bear 2117")
    assert await queue.name_in_use("calm bear 2117")  # a new conversation draws another alias
    assert not await queue.name_in_use("Calm Bear 2118")
    await queue.block(other, "Jade Wren 0001")
    await queue.forget_block(other)
    assert await queue.name_in_use("Calm Bear 2117") and await queue.is_blocked(USER)
    assert not await queue.is_blocked(other) and not await queue.name_in_use("Jade Wren 0001")
    assert await queue.unblock("Calm Bear 2117") and not await queue.is_blocked(USER)


def test_a_record_stored_before_the_rename_reads_its_conversation_name_and_is_stored_the_same_way() -> None:
    stored_before = {"ticket": "t1", "alias": "Calm Bear 0001", "chat": "sealed", "since": str(NOW)}
    loaded = Handoff.from_hash(USER, stored_before)
    assert loaded is not None and loaded.conversation_name == "Calm Bear 0001"
    # Written under the same field, so a bot rolled back to the old code still reads it.
    assert loaded.to_hash()["alias"] == "Calm Bear 0001" and "conversation_name" not in loaded.to_hash()
