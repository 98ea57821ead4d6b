"""One person's update, start to finish: flood guard, session, engine, replies (crisis first), save, log.

The rules that keep someone in crisis answered live here: the crisis reply is sent before anything else;
a flooded or unreadable message still goes through the matcher, so a crisis message gets the crisis
reply anyway; and when the store is down the person is answered from a fresh session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import Forbidden, TelegramError

from bot.engine import Engine
from bot.errors import StoreUnavailable
from bot.events import (
    EndHandoff,
    Event,
    Feedback,
    ForgetUser,
    LeaveQueue,
    Outcome,
    Reply,
    RequestHandoff,
    TextMessage,
)
from bot.handoff.record import Handoff
from bot.keys import KeyRing
from bot.logs import log_event
from bot.monitoring.metrics import BotMetrics
from bot.nlu.language import language_from_code
from bot.session import Session
from bot.state import SessionStore
from bot.state.guard import RETRY_SECONDS, StoreGuard
from bot.telegram.handoff import (
    FORGOTTEN_RESPONSES,
    RELAY_FAILED_RESPONSE,
    EraseInGroup,
    HandoffRequest,
    HandoffService,
    RelayFailed,
    SupportersNotConnected,
    nothing_to_erase,
)
from bot.telegram.lanes import Lanes
from bot.telegram.render import in_send_order, send_reply
from bot.usage.recorder import UsageRecorder
from bot.usage.unmatched import UnmatchedLog

log = logging.getLogger(__name__)

FLOOD_WINDOW_SECONDS = 60
GROUP_NOTICE_WINDOW_SECONDS = 600  # one "private chats only" reply per group per ten minutes
TYPING_AFTER_SECONDS = 1.0
# What a person sends while a supporter has their conversation goes to the supporter, not the engine.
RELAYED_KINDS = frozenset({"text", "non_text"})
# Longer texts are matched on a worker thread (review finding 12: ~125 ms of matching for 4,096 characters
# held every other conversation, crisis replies included); the thread gives the event loop the GIL back
# every few ms (sys.getswitchinterval). Short texts, nearly all, stay inline: no hand-off cost.
LONG_TEXT_CHARS = 1000
WITHHELD_RESPONSE = "handoff_not_passed_on"  # a message kept from the supporter, and why (required content)


@dataclass(frozen=True)
class Person:
    """Who an update came from; held in memory only while the update is handled, never stored or logged."""

    user_id: int
    chat_id: int
    language: str | None = None


@dataclass
class _Trace:
    """What the per-update log line reports."""

    kind: str
    log_alias: str
    reply: str = "none"
    intent: str | None = None
    score: float | None = None
    crisis: bool = False
    fallback: bool = False
    flooded: bool = False
    store: str = "ok"


def fell_back(before: Session, outcome: Outcome) -> bool:
    """The engine found no topic and gave its fallback answer (the only turn that counts a miss)."""
    after = outcome.session
    return outcome.intent is None and after is not None and after.fallbacks > before.fallbacks


class Dialogue:
    """Runs updates through the engine and sends what it decides; shared by every chat."""

    def __init__(
        self,
        engine: Engine,
        store: SessionStore,
        keys: KeyRing,
        *,
        flood_limit: int,
        default_region: str | None = None,
        handoff: HandoffService | None = None,
        typing_after: float | None = TYPING_AFTER_SECONDS,
        stats: UsageRecorder | None = None,
        unmatched: UnmatchedLog | None = None,
        metrics: BotMetrics | None = None,
        store_retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.engine = engine
        self.guard = StoreGuard(store, retry_seconds=store_retry_seconds)
        self.keys = keys
        self.flood_limit = flood_limit
        self.default_region = default_region
        self.handoff: HandoffService = handoff or SupportersNotConnected(engine)
        self.typing_after = typing_after
        self.stats = stats
        self.unmatched = unmatched  # only when the deployment opted in (PEERLINE_KEEP_UNMATCHED)
        self.metrics = metrics
        self.relays = Lanes()  # each person's messages on their way to a supporter, in order

    async def handle(
        self,
        bot: Bot,
        person: Person,
        event: Event,
        kind: str,
        *,
        unread: str | None = None,
        message_id: int | None = None,
        withheld: str | None = None,
    ) -> None:
        """Answer one event. With `unread` (a system response id), only a crisis gets the engine's answer.

        `unread` is for messages the bot does not act on, such as edits: they are still checked for crisis.
        While a supporter has the conversation, messages (`message_id`) are relayed to them instead of
        answered; a crisis message still gets the crisis reply first. A `withheld` message (a contact, a
        file, a forward: see `handlers.withheld_kind`) never reaches the supporter; the person is told why.
        """
        started = time.perf_counter()
        user = self.keys.key(person.user_id)
        trace = _Trace(kind, self.keys.log_alias(user))
        typing = self._typing_later(bot, person.chat_id)
        try:
            stored, count, store_ok = await self.guard.load_and_count(user, FLOOD_WINDOW_SECONDS)
            # The handoff queue is in the same Redis: while the store is down, waiting on it again would only
            # add a second timeout (so the person is answered by the engine, and nothing is flagged).
            relayable = store_ok and kind in RELAYED_KINDS and message_id is not None
            claimed = await self._claimed(user) if relayable else None
            trace.store = "ok" if store_ok else "down"
            session = stored or self.new_session(person)
            outcome = await self._decide(event, session)
            trace.intent = outcome.intent
            trace.score = outcome.match.score if outcome.match else None
            trace.crisis = any(r.crisis for r in outcome.replies)
            trace.flooded = count > self.flood_limit
            trace.fallback = fell_back(session, outcome)
            # An answer to the bot's own question (e.g. "yes" to /forget) is for the bot, not the supporter.
            for_the_bot = session.pending is not None and session.pending.kind == "forget"
            via_relay = False  # the message is the supporter's, whether or not the copy gets through
            if claimed is not None and message_id is not None and not trace.flooded and not for_the_bot:
                via_relay = True
                trace.reply = "withheld" if withheld else "relayed"
                typing.cancel()
                await self._relay(
                    bot, person, claimed, outcome, message_id, session, trace.log_alias, withheld
                )
            elif trace.crisis or not (trace.flooded or unread):
                trace.reply = "engine"
                await self._perform(bot, person, user, trace, outcome, typing, session, save=store_ok)
            elif trace.flooded:
                # Once per window: more "slow down" replies would only add to the flood.
                trace.reply = "flood" if count == self.flood_limit + 1 else "silent"
                if trace.reply == "flood":
                    typing.cancel()
                    await self._send(bot, person.chat_id, Reply(self.engine.system_text("flood", session)))
            elif unread:
                trace.reply = unread
                typing.cancel()
                await self._send(bot, person.chat_id, Reply(self.engine.system_text(unread, session)))
            if trace.crisis and not via_relay and store_ok:
                # The relay flags a crisis itself; otherwise (not claimed, flooded, an answer to /forget)
                # the person's supporter or the queue still hears of it here.
                await self._note_crisis(bot, user)
            await self._count(trace, event)
        except Forbidden:
            trace.reply = "blocked"
            await self._forget_blocked(bot, user, trace.log_alias)
        finally:
            typing.cancel()
            latency = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe_update(trace.kind, trace.reply, latency)
            log_event(
                log,
                "update",
                alias=trace.log_alias,
                kind=trace.kind,
                intent=trace.intent,
                score=trace.score,
                crisis=trace.crisis,
                flooded=trace.flooded,
                store=trace.store,
                reply=trace.reply,
                latency_ms=round(latency * 1000),
            )

    async def _decide(self, event: Event, session: Session) -> Outcome:
        """The engine's decision; a long text is decided on a worker thread (see LONG_TEXT_CHARS)."""
        if isinstance(event, TextMessage) and len(event.text) > LONG_TEXT_CHARS:
            return await asyncio.to_thread(self.engine.handle, event, session)
        return self.engine.handle(event, session)

    async def _count(self, trace: _Trace, event: Event) -> None:
        """Usage statistics (no user data) and, if opted in, the scrubbed text of a fallback."""
        answered = trace.reply == "engine"
        fallback = answered and trace.fallback and not trace.crisis
        if self.stats is not None:
            intent = trace.intent if answered else None
            await self.stats.record_update(intent, fallback, trace.crisis)
        if fallback and self.unmatched is not None and isinstance(event, TextMessage):
            await self.unmatched.record(
                event.text
            )  # the text only: no key, log alias or chat id goes with it

    async def private_only(self, bot: Bot, chat_id: int, text: str = "") -> None:
        """Tell a group the bot only works in private chats, at most once per group per window.

        A crisis message in a group still gets the crisis reply, every time; nothing is stored about it.
        """
        group = self.keys.key(chat_id)
        session = Session(region=self.default_region)
        crisis = (
            [r for r in self.engine.handle(TextMessage(text), session).replies if r.crisis] if text else []
        )
        count = await self.guard.count_message(group, GROUP_NOTICE_WINDOW_SECONDS)
        notice = count == 1
        reply = "crisis" if crisis else "private_only" if notice else "silent"
        log_event(
            log, "update", alias=self.keys.log_alias(group), kind="group", crisis=bool(crisis), reply=reply
        )
        with contextlib.suppress(Forbidden):  # removed from the group meanwhile: nothing to do
            for answer in crisis:
                await self._send(bot, chat_id, answer)
            if notice:
                extra = {"bot": f"@{bot.username}"}
                await self._send(bot, chat_id, Reply(self.engine.system_text("private_only", session, extra)))

    async def blocked(self, bot: Bot, person: Person) -> None:
        """The person blocked the bot: end any handoff and delete what is stored about them."""
        user = self.keys.key(person.user_id)
        await self._forget_blocked(bot, user, self.keys.log_alias(user))

    def new_session(self, person: Person) -> Session:
        """A first session: the person's language if the content has it, and the region their language tag
        names (es-MX: Mexico, es-ES: Spain) or else the default region."""
        content = self.engine.brain.content
        locale = language_from_code(person.language, frozenset(content.locales))
        region = content.region_for_language(person.language) or self.default_region
        return Session(locale=locale, region=region)

    async def _perform(
        self,
        bot: Bot,
        person: Person,
        user: str,
        trace: _Trace,
        outcome: Outcome,
        typing: asyncio.Task[None],
        before: Session,
        *,
        save: bool,
    ) -> None:
        """Carry out the engine's actions (crisis replies first), then save or delete the session.

        After /forget, the engine's "forgotten" reply (the reply that follows `ForgetUser`) is replaced by
        one that says what was deleted from the supporters' group, if the person ever talked to them.
        """
        forgotten = False
        instead: str | None = None  # the response that replaces the engine's "forgotten" reply
        for action in in_send_order(outcome.actions):
            if isinstance(action, Reply):
                typing.cancel()
                if instead is not None and not action.crisis:
                    action = Reply(self.engine.system_text(instead, before), action.buttons)
                    instead = None
                await self._send(bot, person.chat_id, action)
            elif isinstance(action, ForgetUser):
                await self.relays.wait(user)
                erase: EraseInGroup = nothing_to_erase
                with contextlib.suppress(StoreUnavailable):
                    erase = await self.handoff.forget(user)
                forgotten = await self.guard.forget(user)
                instead = FORGOTTEN_RESPONSES.get(await erase(bot))
                if not forgotten:
                    # Never say "deleted" when it wasn't: the keys expire with their TTL meanwhile.
                    trace.reply = "forget_failed"
                    log_event(
                        log, "forget_failed", logging.ERROR, alias=trace.log_alias, reason="store_unavailable"
                    )
                    text = self.engine.system_text("forget_cancelled", outcome.session or Session())
                    await self._send(bot, person.chat_id, Reply(text))
                    return
            elif isinstance(action, RequestHandoff | EndHandoff | LeaveQueue):
                await self._handoff_action(bot, person, user, trace, action, outcome.session or Session())
            elif isinstance(action, Feedback):
                # Counted only as the answer to a question the desk asked: not forged or repeated presses.
                with contextlib.suppress(StoreUnavailable):
                    if await self.handoff.take_feedback(user):
                        log_event(log, "handoff_feedback", helpful=action.helpful)
                        if self.stats is not None:
                            await self.stats.record_feedback(action.helpful)
        if outcome.session is None:
            if not forgotten:
                await self.guard.forget(user)
        elif save:
            await self.guard.save(user, outcome.session)

    async def _handoff_action(
        self,
        bot: Bot,
        person: Person,
        user: str,
        trace: _Trace,
        action: RequestHandoff | EndHandoff | LeaveQueue,
        session: Session,
    ) -> None:
        if not isinstance(action, RequestHandoff):
            await self.relays.wait(user)  # the supporter sees every message before the end
        try:
            if isinstance(action, RequestHandoff):
                await self.handoff.request(
                    bot, HandoffRequest(user, trace.log_alias, person.chat_id, session)
                )
            elif isinstance(action, EndHandoff):
                await self.handoff.end_by_person(bot, user, person.chat_id, session)
            else:
                await self.handoff.leave_queue(bot, user, person.chat_id, session)
        except StoreUnavailable:
            # Without Redis there is no queue: say so plainly, with people to call instead.
            trace.store = "down"
            await self._send(
                bot, person.chat_id, Reply(self.engine.system_text("handoff_not_available", session))
            )
        except Forbidden:
            raise  # the person blocked the bot: handled by `handle`
        except TelegramError as exc:
            # Telling them failed after retries; the queue and the supporters already have it (desk.request).
            log_event(log, "handoff_reply_failed", logging.WARNING, error=type(exc).__name__)

    async def _claimed(self, user: str) -> Handoff | None:
        try:
            return await self.handoff.claimed_record(user)
        except StoreUnavailable:
            return None

    async def _relay(
        self,
        bot: Bot,
        person: Person,
        record: Handoff,
        outcome: Outcome,
        message_id: int,
        session: Session,
        log_alias: str,
        withheld: str | None = None,
    ) -> None:
        """Crisis replies first (the person is never left waiting on a human), then the message itself
        (or, for a `withheld` one, a word on why it was not passed on).

        The copy runs in the person's relay lane (`bot/telegram/lanes.py`): it may wait on the supporters'
        group's rate limit, and the person's next message must not wait behind it.
        """
        crisis = [r for r in outcome.replies if r.crisis]
        for reply in crisis:
            await self._send(bot, person.chat_id, reply)
        if crisis:
            await self._note_crisis(bot, record.user)
        if withheld:
            log_event(log, "relay_withheld", alias=log_alias, kind=withheld)
            await self._send(bot, person.chat_id, Reply(self.engine.system_text(WITHHELD_RESPONSE, session)))
            return

        async def copy() -> None:
            await self._copy_to_supporter(bot, person.chat_id, record, message_id, session, log_alias)

        self.relays.submit(record.user, copy)

    async def _copy_to_supporter(
        self, bot: Bot, chat_id: int, record: Handoff, message_id: int, session: Session, log_alias: str
    ) -> None:
        """Copy one message to the supporter; if it does not get there, the person is told so, calmly."""
        try:
            await self.handoff.relay_from_person(bot, record, chat_id, message_id)
            return
        except StoreUnavailable:
            log_event(log, "relay_failed", logging.WARNING, reason="store_unavailable")
        except RelayFailed:
            pass  # the group's side failed (and was logged there): the person did not block anyone
        try:
            await self._send(bot, chat_id, Reply(self.engine.system_text(RELAY_FAILED_RESPONSE, session)))
        except Forbidden:
            await self._forget_blocked(bot, record.user, log_alias)

    async def _send(self, bot: Bot, chat_id: int, reply: Reply) -> None:
        """Send one reply; if Telegram refuses it (400) or it still fails after retries, drop only it.

        `Forbidden` (the person blocked the bot) is raised: nothing more can reach them.
        """
        try:
            await send_reply(bot, chat_id, reply)
        except Forbidden:
            raise
        except TelegramError as exc:
            level = logging.ERROR if reply.crisis else logging.WARNING
            log_event(log, "reply_dropped", level, error=type(exc).__name__, crisis=reply.crisis)

    async def _note_crisis(self, bot: Bot, user: str) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self.handoff.note_crisis(bot, user)

    async def _forget_blocked(self, bot: Bot, user: str, log_alias: str) -> None:
        # As /forget does: every key goes first (handoff, then session), then the group is cleaned.
        erase: EraseInGroup = nothing_to_erase
        with contextlib.suppress(StoreUnavailable):
            erase = await self.handoff.forget(user, blocked=True)
        deleted = await self.guard.forget(user)
        log_event(log, "user_blocked", alias=log_alias, state="deleted" if deleted else "kept_until_ttl")
        await erase(bot)

    def _typing_later(self, bot: Bot, chat_id: int) -> asyncio.Task[None]:
        """A task that shows "typing…" if the reply is not on its way within `typing_after` seconds."""

        async def show() -> None:
            if self.typing_after is None:
                return
            await asyncio.sleep(self.typing_after)
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)

        return asyncio.create_task(show())
