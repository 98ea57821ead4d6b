"""Bot API failures: the retry policy, then the real bot against FakeTelegram answering with errors.

429s wait as long as Telegram asks, 5xx answers, timeouts and dropped connections are retried with backoff
(longer for crisis replies), and 400/403 answers drop only the one action they refused.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.brain import Brain
from bot.config import Settings
from bot.errors import ConfigError
from bot.events import Command, TextMessage
from bot.telegram.retry import CRISIS_POLICY, ORDINARY_POLICY, RetryingLimiter, RetryPolicy, Urgency
from tests.telegram_harness import ALICE, BOB, GROUP, RunningBot, StartBot, bot_factory, eventually

OVERDOSE_NOW = "my friend is not breathing and wont wake up"
ORDINARY = "where can i get narcan"
# Short, so a timed-out attempt costs the test 0.3 s, not PTB's default 5 s.
FAST_TIMEOUT = {"PEERLINE_API_TIMEOUT": "0.3"}
# PTB warns when a RetryAfter is made from an int; the policy reads its timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


def statuses(bot: RunningBot, chat_id: int = ALICE) -> list[int]:
    return [c.status for c in bot.tg.calls_to("sendMessage", chat_id)]


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().split()[0] == f"event={name}"]


# ----------------------------------------------------------------------------- the policy alone


def test_flood_wait_is_what_telegram_asked_for_plus_a_little_jitter() -> None:
    wait = ORDINARY_POLICY.delay(1, RetryAfter(timedelta(seconds=3)), jitter=0.5)
    assert wait == pytest.approx(3 + 0.5 * ORDINARY_POLICY.base_delay)


def test_a_flood_wait_longer_than_the_policy_allows_is_not_waited_out() -> None:
    too_long = RetryAfter(timedelta(seconds=ORDINARY_POLICY.max_retry_after + 1))
    assert ORDINARY_POLICY.delay(1, too_long, jitter=0.0) is None
    assert CRISIS_POLICY.delay(1, too_long, jitter=0.0) is not None


@pytest.mark.parametrize("error", [BadRequest("Bad Request: chat not found"), Forbidden("blocked")])
def test_refused_requests_are_never_retried(error: Exception) -> None:
    assert ORDINARY_POLICY.delay(1, error, jitter=0.0) is None
    assert CRISIS_POLICY.delay(1, error, jitter=0.0) is None


@pytest.mark.parametrize("error", [NetworkError("Bad Gateway"), TimedOut()])
def test_backoff_doubles_stays_jittered_and_is_capped(error: Exception) -> None:
    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=4.0, max_retry_after=10.0)
    lowest = [policy.delay(retry, error, jitter=0.0) for retry in range(1, 6)]
    highest = [policy.delay(retry, error, jitter=0.999) for retry in range(1, 6)]
    assert lowest == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert highest == pytest.approx([1.0, 2.0, 4.0, 4.0, 4.0], abs=0.01)
    assert policy.delay(10, error, jitter=0.0) is None  # the tenth attempt was the last


async def _attempts_until_given_up(urgency: Urgency | None) -> tuple[int, list[float]]:
    """How many times the limiter calls an always-failing Bot API call, and the waits in between."""
    waits: list[float] = []
    calls = 0

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def bad_gateway() -> bool:
        nonlocal calls
        calls += 1
        raise NetworkError("Bad Gateway")

    limiter = RetryingLimiter(sleep=record_sleep, jitter=lambda: 0.0)
    with pytest.raises(NetworkError):
        await limiter.process_request(bad_gateway, (), {}, "sendMessage", {"chat_id": 1}, urgency)
    return calls, waits


async def test_crisis_calls_get_more_attempts_than_ordinary_ones() -> None:
    ordinary, ordinary_waits = await _attempts_until_given_up(None)
    crisis, crisis_waits = await _attempts_until_given_up(Urgency.CRISIS)
    assert (ordinary, crisis) == (ORDINARY_POLICY.attempts, CRISIS_POLICY.attempts)
    assert crisis > ordinary
    assert len(ordinary_waits) == ordinary - 1 and len(crisis_waits) == crisis - 1
    assert max(crisis_waits) <= CRISIS_POLICY.max_delay


def test_api_timeout_is_read_and_a_bad_one_is_refused_by_name() -> None:
    assert Settings.load({"PEERLINE_API_TIMEOUT": "0.5"}).api_timeout == 0.5
    assert Settings.load({}).api_timeout == 5.0
    for bad in ("0", "-1", "soon", "nan"):
        with pytest.raises(ConfigError, match="PEERLINE_API_TIMEOUT"):
            Settings.load({"PEERLINE_API_TIMEOUT": bad})


# ----------------------------------------------------------------------------- the real bot


async def test_crisis_reply_gets_through_a_502_and_a_timeout(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    bot = await start_bot(**FAST_TIMEOUT)
    bot.tg.fail_next("sendMessage", status=502, chat_id=ALICE)
    bot.tg.stall_next("sendMessage", 1.0, chat_id=ALICE)  # sent, but answered after the bot gave up
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    await bot.tg.wait_for(lambda: len(statuses(bot)) >= 3, 10, description="three tries")
    crisis = bot.expected(TextMessage(OVERDOSE_NOW))
    assert statuses(bot)[:3] == [502, 200, 200]
    assert [c.params["text"] for c in bot.tg.calls_to("sendMessage", ALICE)] == [crisis] * 3
    # The documented trade-off: the timed-out try had been delivered, so the person sees it twice.
    assert len(bot.tg.sent_texts(ALICE)) == 2
    retries = events(caplog, "api_call_retry")
    errors = [r.split("error=")[1].split()[0] for r in retries]
    assert errors == ["NetworkError", "TimedOut"]
    assert all("urgency=crisis" in r and "method=sendmessage" in r.lower() for r in retries)  # any case


async def test_a_429_waits_as_long_as_telegram_asked(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.tg.fail_next("sendMessage", status=429, retry_after=0.6, chat_id=ALICE)
    await bot.tg.send_text(ALICE, ORDINARY)
    [reply] = await bot.replies(ALICE, timeout=10)
    refused, sent = bot.tg.calls_to("sendMessage", ALICE)
    assert (refused.status, sent.status) == (429, 200)
    assert sent.at - refused.at >= 0.6
    assert reply.params["text"] == bot.expected(TextMessage(ORDINARY))


async def test_a_groups_flood_wait_does_not_hold_up_a_crisis_reply_to_someone_else(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    bot.tg.fail_next("sendMessage", status=429, retry_after=3, chat_id=GROUP)
    await bot.tg.send_text(BOB, "hello everyone", chat_id=GROUP, chat_type="supergroup")
    await bot.tg.wait_for(lambda: len(bot.tg.calls_to("sendMessage", GROUP)) == 1, 5, description="the 429")
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    [reply] = await bot.replies(ALICE, timeout=10)
    assert reply.params["text"] == bot.expected(TextMessage(OVERDOSE_NOW))
    [refused] = bot.tg.calls_to("sendMessage", GROUP)  # the group's retry is still waiting its 3 s
    assert refused.status == 429 and reply.at - refused.at < 3
    await bot.tg.wait_for(lambda: bot.tg.sent_texts(GROUP), 10, description="then the group is answered")


async def test_server_errors_and_dropped_connections_are_retried_without_duplicates(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(**FAST_TIMEOUT)
    bot.tg.fail_next("sendMessage", status=500, chat_id=ALICE)
    bot.tg.reset_next("sendMessage", chat_id=ALICE)
    await bot.tg.send_text(ALICE, ORDINARY)
    await bot.replies(ALICE, timeout=10)
    assert statuses(bot) == [500, 0, 200]
    # Neither failed try reached the chat, so the answer arrives exactly once.
    assert bot.tg.sent_texts(ALICE) == [bot.expected(TextMessage(ORDINARY))]


async def test_a_400_drops_only_that_reply_and_the_conversation_goes_on(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    bot = await start_bot()
    bot.tg.fail_next("sendMessage", status=400, description="Bad Request: chat not found", chat_id=ALICE)
    simulate = bot.simulate()
    await bot.tg.send_text(ALICE, "/region uk")
    simulate(Command("region", "uk"))
    await bot.tg.wait_for(lambda: statuses(bot) == [400], description="the refused reply")
    await bot.tg.send_text(ALICE, "/resources")
    await bot.replies(ALICE)
    assert statuses(bot) == [400, 200], "a 400 is never retried"
    assert not events(caplog, "api_call_retry")
    assert [r for r in events(caplog, "reply_dropped") if "error=BadRequest" in r]
    # Only the refused reply was dropped, not the update: the region change was saved, so UK numbers.
    uk_resources = simulate(Command("resources"))
    assert uk_resources != [bot.expected(Command("resources"))]
    assert bot.tg.sent_texts(ALICE) == uk_resources


async def test_a_403_is_not_retried(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, ORDINARY)
    await bot.replies(ALICE)
    bot.tg.block_user(ALICE)
    await bot.tg.send_text(ALICE, "what about test strips")

    async def forgotten() -> bool:
        return await bot.keys_of(ALICE) == []

    await eventually(forgotten)
    assert statuses(bot) == [200, 403]
