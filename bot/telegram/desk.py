"""The supporters' desk: queueing people for a peer supporter, the topic per conversation, claiming,
relaying both ways with `copyMessage`, the supporters' commands, and the timers.

Nobody learns who the other is: the group sees a conversation name, never the person's id, name or
username (the person's chat id is kept sealed in the handoff record and opened only to send); the
person sees the supporter's chosen display name, never their Telegram identity, because messages are
copied, not forwarded.
All state is in Redis (`HandoffQueue`), so any bot process can serve any update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.content.html import escape
from bot.engine import Engine
from bot.errors import StoreUnavailable
from bot.events import Reply
from bot.handoff import card
from bot.handoff.queue import GroupTrace, HandoffQueue
from bot.handoff.record import Handoff
from bot.handoff.timers import Duty, HandoffLimits, duties
from bot.hours import WeeklyHours, describe
from bot.keys import ChatIdSeal, KeyRing, SealBroken
from bot.logs import log_event
from bot.referrals.card import referral_card
from bot.referrals.model import SERVICE_KINDS
from bot.session import Session
from bot.telegram.handoff import Erased, EraseInGroup, HandoffRequest, RelayFailed
from bot.telegram.render import NO_PREVIEW, send_reply
from bot.usage.recorder import UsageRecorder

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

# Telegram's words when a topic is gone or closed (PTB may change their case).
_BROKEN_TOPIC = re.compile(r"message thread not found|topic_closed|topic_deleted|thread not found", re.I)
DELAY_NOTICE_SECONDS = 10.0  # a relay slower than this means Telegram's group limit is queueing us
MAX_ALIAS_CHARS = 32
_ALIAS_RE = re.compile(r"[\w .'-]{1,32}")
NOT_A_SUPPORTER = "Only peer supporters on the rota can claim or close conversations."
BLOCKED_CLOSE_NOTE = "The person has blocked the bot; the conversation is closed."
BLOCKED_NOTE = "The person blocked the bot"
FORGOTTEN_NOTE = "The person deleted their data with /forget"
ERASED_NOTE = "🗑 {who}: {why}, so their conversations were deleted from this group."
NOT_ERASED_NOTE = (
    "⚠️ {who}: {why}, but the bot could not delete everything from this group (it needs the "
    "<i>Delete messages</i> and <i>Manage topics</i> admin rights). An admin, please delete these topics "
    "now: {topics}"
)
# Telegram's words for a topic or message that is already gone (deleting it again is no failure).
_ALREADY_GONE = re.compile(r"not found|TOPIC_ID_INVALID|MESSAGE_ID_INVALID", re.I)
NAME_DRAWS = 5  # a new conversation's name is drawn again while a block answers to it
FORWARD_NOT_SENT = (
    "🚫 Not sent: forwarded messages stay with the team (they can carry another person's words or name). "
    "Write or copy what the person should read instead."
)
NOT_DELIVERED = (
    "⚠️ Your last message could not be delivered to the person (Telegram refused it or did not answer). "
    "Please send it again."
)


@dataclass(frozen=True)
class DeskSettings:
    """Who the supporters are, where they work and when."""

    chat_id: int
    supporter_ids: frozenset[int]
    admin_ids: frozenset[int] = frozenset()
    hours: WeeklyHours = field(default_factory=WeeklyHours.always)
    limits: HandoffLimits = field(default_factory=HandoffLimits)
    sweep_seconds: float = 30.0
    delay_notice: float = DELAY_NOTICE_SECONDS
    topic_days: int = 30  # an ended conversation's topic is deleted this long after it ended

    def may_support(self, user_id: int) -> bool:
        return user_id in self.supporter_ids or user_id in self.admin_ids


class SupportersDesk:
    """Implements `HandoffService` for a supporters' forum group, plus the group side and timers."""

    def __init__(
        self,
        engine: Engine,
        queue: HandoffQueue,
        keys: KeyRing,
        seal: ChatIdSeal,
        settings: DeskSettings,
        clock: Clock = time.time,
        stats: UsageRecorder | None = None,
    ) -> None:
        self.engine = engine
        self.queue = queue
        self.keys = keys
        self.seal = seal
        self.settings = settings
        self.clock = clock
        self.stats = stats
        self._sweeper: asyncio.Task[None] | None = None

    # -- the person's side (called by the Dialogue) ----------------------------------------

    async def request(self, bot: Bot, request: HandoffRequest) -> None:
        """Queue the person, open their topic with the card, and tell them their place."""
        session, user = request.session, request.user
        if await self.queue.is_blocked(user):
            log_event(log, "handoff_refused", alias=request.log_alias, reason="blocked")
            await self._tell(bot, request.chat_id, "handoff_not_available", session)
            return
        existing = await self.queue.get(user)
        if existing is not None:
            if existing.claimed:
                name = existing.owner_name or card.DEFAULT_SUPPORTER_NAME
                await self._tell(bot, request.chat_id, "handoff_joined", session, supporter=name)
            else:
                position = await self.queue.position(user) or 1
                await self._tell(bot, request.chat_id, "handoff_already_waiting", session, position=position)
            return
        now = self.clock()
        moment = datetime.fromtimestamp(now, UTC)
        if not self.settings.hours.is_open(moment):
            opening = self.settings.hours.next_opening(moment)
            log_event(log, "handoff_refused", alias=request.log_alias, reason="outside_hours")
            next_open = describe(opening) if opening else ""
            await self._tell(bot, request.chat_id, "handoff_closed_hours", session, next_open=next_open)
            return
        intents = self.engine.brain.content.locale(session.locale).intents
        ticket, name = await self._new_conversation(user)
        record = Handoff(
            user=user,
            ticket=ticket,
            conversation_name=name,
            chat=self.seal.seal(request.chat_id, user),
            since=now,
            crisis=any(i in intents and intents[i].crisis for i in session.recent_intents),
            region=session.region or self.engine.brain.content.default_region,
            locale=session.locale or self.engine.brain.content.default_locale,
            intents=tuple(reversed(session.recent_intents)),
        )
        await self.queue.open(record)
        log_event(log, "handoff_requested", alias=request.log_alias, crisis=record.crisis)
        if self.stats is not None:
            await self.stats.record_handoff_requested()
        position = await self.queue.position(user) or 1
        try:
            await self._tell(bot, request.chat_id, "handoff_queued", session, position=position)
        finally:  # the supporters hear of them (a crisis loudly) even if telling the person failed
            # Asking again within minutes reuses the last topic: one person can't fill the group.
            record = await self._open_topic(bot, record, reuse=await self.queue.recent_topic(user))
            if record.crisis:
                await self._announce_crisis(bot, record)

    async def _new_conversation(self, user: str) -> tuple[str, str]:
        """A ticket and the name it gives, drawn again while a block answers to that name (/unblock)."""
        for _ in range(NAME_DRAWS):
            ticket = self.queue.new_ticket()
            name = self.keys.conversation_name(user, ticket)
            if not await self.queue.name_in_use(name):
                break
        return ticket, name

    async def take_feedback(self, user: str) -> bool:
        return await self.queue.take_feedback(user)

    async def claimed_record(self, user: str) -> Handoff | None:
        """The person's handoff if a supporter has it (their messages then go to the supporter)."""
        record = await self.queue.get(user)
        return record if record and record.claimed else None

    async def relay_from_person(self, bot: Bot, record: Handoff, chat_id: int, message_id: int) -> None:
        """Copy what the person sent (any kind of message) into the conversation's topic.

        Raises `RelayFailed` if it did not get there (the group refused it, the message is gone or can't be
        copied, Telegram failed after retries): those are the group's side, so the person's data stays.
        """
        record = await self.queue.update(record, last_person=self.clock(), idle_reminded=False)

        async def copy(topic: int) -> object:
            copied = await bot.copy_message(
                self.settings.chat_id, chat_id, message_id, message_thread_id=topic
            )
            # The copy got there even if Redis fails now: only /forget's fallback would miss it.
            with contextlib.suppress(StoreUnavailable):
                await self.queue.remember_in_group(record.user, topic, copied.message_id)
            return copied

        started = time.monotonic()
        try:
            copied = await self._in_topic(bot, record, copy)
        except TelegramError as exc:
            # Forbidden here means the bot is out of the supporters' group: someone must act on that.
            level = logging.ERROR if isinstance(exc, Forbidden) else logging.WARNING
            self._relay_failed(record, "to_supporter", type(exc).__name__, level)
            raise RelayFailed(type(exc).__name__) from exc
        if copied is None:
            self._relay_failed(record, "to_supporter", "no_topic", logging.ERROR)
            raise RelayFailed("no topic could be opened for the conversation")
        await self._note_delay(bot, record, time.monotonic() - started)

    async def note_crisis(self, bot: Bot, user: str) -> None:
        """A crisis message from someone in the queue or in a conversation: flag it, loudly, once."""
        record = await self.queue.get(user)
        if record is None or record.crisis:
            return
        flagged = await self.queue.mark_crisis(record)
        if flagged is None:
            return  # ended meanwhile: there is no conversation left to flag
        record = flagged
        log_event(log, "handoff_crisis", alias=self.keys.log_alias(user))
        await self._refresh_card(bot, record)
        await self._announce_crisis(bot, record)

    async def end_by_person(self, bot: Bot, user: str, chat_id: int, session: Session) -> None:
        """/end from the person: close their conversation (or queue entry) and ask for feedback."""
        record = await self.queue.get(user)
        if record is None:
            await self._tell(bot, chat_id, "handoff_nothing_to_end", session)
            return
        await self._finish(bot, record, "The person ended the conversation.", "handoff_ended", session)

    async def leave_queue(self, bot: Bot, user: str, chat_id: int, session: Session) -> None:
        record = await self.queue.get(user)
        if record is not None and not record.claimed:
            await self._close(bot, record, "The person left the queue.")
        await self._tell(bot, chat_id, "handoff_left_queue", session)

    async def forget(self, user: str, *, blocked: bool = False) -> EraseInGroup:
        """/forget, or the person blocked the bot: end any handoff and remove its queue entry, mappings, block
        and trace in the group from Redis now; the returned erasure then deletes their topics in the group.

        The keys go first: the group's sends are throttled, and a process that dies meanwhile must not
        leave the person's keys behind until their TTL.
        """
        record = await self.queue.get(user)
        if record is not None:
            await self.queue.close(user, record)
            log_event(log, "handoff_closed", alias=self.keys.log_alias(user), claimed=record.claimed)
        trace = await self.queue.take_group_trace(user)
        if record is not None and record.topic is not None and record.topic not in trace.topics:
            trace = GroupTrace((*trace.topics, record.topic), trace.messages)
        await self.queue.forget_block(user)
        why = BLOCKED_NOTE if blocked else FORGOTTEN_NOTE
        who = escape(record.conversation_name) if record is not None else "A person"

        async def erase(bot: Bot) -> Erased:
            return await self._erase(bot, trace, who, why)

        return erase

    async def _erase(self, bot: Bot, trace: GroupTrace, who: str, why: str) -> Erased:
        """Delete the person's topics; where a topic can't be deleted, its recorded messages one by one."""
        if not trace.topics:
            return "nothing"
        left: list[int] = []
        for topic in trace.topics:
            if await self._delete_topic(bot, topic):
                continue
            with contextlib.suppress(TelegramError):
                await bot.close_forum_topic(self.settings.chat_id, topic)
            if not await self._delete_messages(bot, trace.messages.get(topic, ())):
                left.append(topic)
        log_event(log, "handoff_erased", topics=len(trace.topics), left=len(left))
        with contextlib.suppress(StoreUnavailable):
            await self.queue.forget_topics(*(t for t in trace.topics if t not in left))
        if not left:
            await self._post(bot, None, ERASED_NOTE.format(who=who, why=why))
            return "deleted"
        links = [card.topic_link(self.settings.chat_id, t) or f"topic {t}" for t in left]
        await self._post(bot, None, NOT_ERASED_NOTE.format(who=who, why=why, topics=" ".join(links)))
        return "partly"

    async def _delete_topic(self, bot: Bot, topic: int) -> bool:
        try:
            await bot.delete_forum_topic(self.settings.chat_id, topic)
        except BadRequest as exc:
            if _ALREADY_GONE.search(str(exc)) or _BROKEN_TOPIC.search(str(exc)):
                return True
            log_event(log, "topic_delete_failed", logging.WARNING, error=type(exc).__name__)
            return False
        except TelegramError as exc:
            log_event(log, "topic_delete_failed", logging.WARNING, error=type(exc).__name__)
            return False
        return True

    async def _delete_messages(self, bot: Bot, messages: tuple[int, ...]) -> bool:
        """True if every message is gone (already deleted counts)."""
        done = True
        for message_id in messages:
            try:
                await bot.delete_message(self.settings.chat_id, message_id)
            except BadRequest as exc:
                if not _ALREADY_GONE.search(str(exc)):
                    done = False
            except TelegramError:
                done = False
        return done

    # -- the supporters' side (called by the group handlers) ---------------------------------

    async def claim(self, bot: Bot, supporter_id: int, ticket: str) -> str:
        """A Claim press; returns the short answer shown to the supporter who pressed."""
        if not self.settings.may_support(supporter_id):
            return NOT_A_SUPPORTER
        record = await self.queue.by_ticket(ticket)
        if record is None:
            return "This conversation has already ended."
        supporter = self.keys.key(supporter_id)
        name = await self.queue.supporter_name(supporter)
        result, owner_name = await self.queue.claim(record, supporter, name, self.clock())
        if result == "gone":
            return "This conversation has already ended."
        if result == "taken":
            return f"Already claimed by {owner_name or 'another supporter'}."
        record = await self.queue.get(record.user) or record
        log_event(
            log,
            "handoff_claimed",
            alias=self.keys.log_alias(record.user),
            waited_s=round(self.clock() - record.since),
        )
        if self.stats is not None:
            await self.stats.record_handoff_claimed(self.clock() - record.since)
        await self._refresh_card(bot, record)
        await self._post(bot, record.topic, f"✅ Claimed by {escape(name or 'a supporter')}. Say hello!")
        await self._tell_person(bot, record, "handoff_joined", supporter=name or card.DEFAULT_SUPPORTER_NAME)
        return "You have this conversation. Write in its topic to reply."

    async def close_button(self, bot: Bot, supporter_id: int, ticket: str) -> str:
        if not self.settings.may_support(supporter_id):
            return NOT_A_SUPPORTER
        record = await self.queue.by_ticket(ticket)
        if record is None:
            return "This conversation has already ended."
        refusal = await self._owner_refusal(supporter_id, record, need_claim=True)
        if refusal:
            return refusal
        await self._finish(bot, record, "Closed by a supporter.", "handoff_ended_by_supporter", None)
        return "Closed."

    async def relay_from_supporter(self, bot: Bot, supporter_id: int, topic: int, message: Message) -> None:
        """A supporter wrote in a topic: copy it to the person (unless it is a // note)."""
        record = await self.queue.by_topic(topic)
        if record is None:
            return
        # A supporter's words in the topic are about the person: /forget deletes them with the topic.
        await self.queue.remember_in_group(record.user, topic, message.message_id)
        text = message.text or message.caption or ""
        if text.lstrip().startswith("//"):
            return  # an internal note for the team
        if message.forward_origin is not None or message.is_automatic_forward:
            # e.g. from another conversation's topic, for a second opinion: never for this person's eyes
            log_event(log, "relay_withheld", alias=self.keys.log_alias(record.user), kind="supporter_forward")
            await self._post(bot, topic, FORWARD_NOT_SENT)
            return
        if not record.claimed:
            await self._post(
                bot, topic, "Press Claim on the card before replying, so the person knows who joined."
            )
            return
        refusal = await self._owner_refusal(supporter_id, record)
        if refusal:
            await self._post(bot, topic, refusal + " Your message was not sent.")
            return
        chat_id = self._chat_of(record)
        if chat_id is None:
            return
        try:
            await bot.copy_message(chat_id, self.settings.chat_id, message.message_id)
        except Forbidden:
            await self._close(bot, record, BLOCKED_CLOSE_NOTE)
            return
        except TelegramError as exc:
            self._relay_failed(record, "to_person", type(exc).__name__, logging.WARNING)
            await self._post(bot, topic, NOT_DELIVERED)
            return
        await self.queue.update(
            record, last_supporter=self.clock(), silence_alerted=False, idle_reminded=False
        )

    async def command(
        self, bot: Bot, supporter_id: int, topic: int | None, name: str, args: str
    ) -> str | None:
        """A supporter's command in the group; returns the answer to post (HTML), or None."""
        if not self.settings.may_support(supporter_id):
            return None
        if name == "help":
            return card.SUPPORTERS_HELP
        supporter = self.keys.key(supporter_id)
        now = self.clock()
        if name == "alias":
            display_name = " ".join(args.split())
            if not _ALIAS_RE.fullmatch(display_name):
                return "Usage: /alias NAME (letters, numbers and spaces, up to 32). People see this name."
            await self.queue.set_supporter_name(supporter, display_name)
            return f"People will see you as <b>{escape(display_name)}</b>."
        if name == "queue":
            waiting = await self.queue.waiting()
            links = [card.topic_link(self.settings.chat_id, r.topic) for r in waiting]
            return card.queue_text(waiting, now, links)
        if name == "mine":
            mine = [r for r in await self.queue.active() if r.claimed and r.owner == supporter]
            links = [card.topic_link(self.settings.chat_id, r.topic) for r in mine]
            return card.mine_text(mine, now, links)
        if name == "unblock":
            if not args.strip():
                return "Usage: /unblock ALIAS, e.g. /unblock Blue Heron 4821"
            done = await self.queue.unblock(" ".join(args.split()))
            return (
                "Unblocked: they can reach supporters again."
                if done
                else "No blocked conversation has that name."
            )
        record = await self.queue.by_topic(topic) if topic is not None else None
        if name == "block" and record is None and args.strip():
            return "Send /block inside the conversation's topic."
        if record is None:
            return "Send this inside a conversation's topic."
        # Acting for the person (ending, blocking, sending them a referral) is for the one who claimed it
        # (or an admin); a waiting conversation must be claimed first, so the team sees who acted.
        refusal = await self._owner_refusal(supporter_id, record, need_claim=name in ("block", "refer"))
        if name in ("end", "release", "block", "refer") and refusal:
            return refusal
        if name == "end":
            await self._finish(bot, record, "Ended by the supporter.", "handoff_ended_by_supporter", None)
            return None
        if name == "release":
            if not record.claimed:
                return "This conversation is already waiting in the queue."
            released = await self.queue.release(record, now)
            if released is None:
                return "This conversation has already ended."
            record = released
            await self._refresh_card(bot, record)
            await self._tell_person(bot, record, "handoff_released")
            return "Released: the conversation is back in the queue."
        if name == "refer":
            return await self._refer(bot, record, args)
        if name == "block":
            await self.queue.block(record.user, record.conversation_name)
            log_event(log, "handoff_blocked", alias=self.keys.log_alias(record.user))
            await self._finish(
                bot,
                record,
                "Blocked: they can't reach supporters now; the bot still answers them.",
                "handoff_ended_by_supporter",
                None,
            )
            return f"Blocked. To undo: /unblock {escape(record.conversation_name)}"
        return None

    async def _refer(self, bot: Bot, record: Handoff, args: str) -> str | None:
        """/refer KIND CITY: the best local services, sent to the person in their language and region."""
        kind, _, place = args.strip().partition(" ")
        kind = kind.lower().replace("-", "_")
        if kind == "any":
            kind = ""
        if (kind and kind not in SERVICE_KINDS) or not place.strip():
            kinds = ", ".join(SERVICE_KINDS)
            return f"Usage: /refer KIND CITY-OR-POSTCODE, e.g. /refer naloxone Portland. Kinds: any, {kinds}"
        content = self.engine.brain.content
        text = referral_card(
            self.engine.brain.directory,
            kind,
            place.strip(),
            content.locale(record.locale or None),
            content.locale(None),
            content.region(record.region or None).in_locale(record.locale or content.default_locale),
            datetime.fromtimestamp(self.clock(), UTC),
        )
        chat_id = self._chat_of(record)
        if chat_id is None:
            return None
        try:
            await send_reply(bot, chat_id, Reply(text))
        except Forbidden:
            await self._close(bot, record, BLOCKED_CLOSE_NOTE)
            return None
        return "📍 Sent to the person:\n\n" + text

    # -- time ---------------------------------------------------------------------------

    async def sweep(self, bot: Bot) -> None:
        """Carry out every duty time has made due (one process at a time)."""
        if not await self.queue.try_lock("sweep", max(1.0, self.settings.sweep_seconds * 0.8)):
            return
        now = self.clock()
        for record in await self.queue.active():
            try:
                if record.topic is None:
                    record = await self._open_topic(bot, record)
                for duty in duties(record, now, self.settings.limits):
                    record = await self._perform(bot, record, duty, now)
            except TelegramError as exc:  # one conversation's failure must not stop everyone else's duties
                log_event(
                    log,
                    "handoff_sweep_record_failed",
                    logging.WARNING,
                    alias=self.keys.log_alias(record.user),
                    error=type(exc).__name__,
                )
        await self._delete_old_topics(bot, now)

    async def _delete_old_topics(self, bot: Bot, now: float) -> None:
        """Ended conversations' topics leave the group after `topic_days` (a batch per sweep)."""
        due = await self.queue.topics_ended_before(now - self.settings.topic_days * 86_400)
        deleted = [topic for topic in due if await self._delete_topic(bot, topic)]
        await self.queue.forget_topics(*deleted)
        if deleted:
            log_event(log, "old_topics_deleted", count=len(deleted))

    def start_sweeping(self, bot: Bot) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self.settings.sweep_seconds)
                try:
                    await self.sweep(bot)
                except Exception as exc:  # the loop must outlive any one failure, or nobody is re-alerted
                    log_event(log, "handoff_sweep_failed", logging.WARNING, error=type(exc).__name__)

        self._sweeper = asyncio.create_task(loop())

    async def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def _perform(self, bot: Bot, record: Handoff, duty: Duty, now: float) -> Handoff:
        link = card.topic_link(self.settings.chat_id, record.topic)
        if duty is Duty.REALERT:
            alert = await self._post(bot, None, card.waiting_alert(record, now, link))
            if record.crisis and alert is not None:
                with contextlib.suppress(TelegramError):
                    await bot.pin_chat_message(self.settings.chat_id, alert.message_id)
            return await self.queue.update(record, alerts=record.alerts + 1)
        if duty is Duty.TELL_PERSON:
            session = self._session_of(record)
            chat_id = self._chat_of(record)
            if chat_id is not None:
                text = self.engine.system_text("handoff_wait_notice", session)
                with contextlib.suppress(Forbidden):
                    await send_reply(bot, chat_id, Reply(text, self.engine.wait_buttons(session)))
            return await self.queue.update(record, wait_notified=True)
        if duty is Duty.SILENCE_ALERT:
            await self._post(bot, None, card.silence_alert(record, now, link))
            return await self.queue.update(record, silence_alerted=True)
        if duty is Duty.IDLE_REMINDER:
            await self._post(bot, record.topic, card.idle_reminder(self.settings.limits.return_after))
            return await self.queue.update(record, idle_reminded=True)
        await self._finish(
            bot, record, "Returned to the bot after a quiet spell.", "handoff_returned_idle", None
        )
        return record

    # -- internals ----------------------------------------------------------------------

    async def _finish(
        self, bot: Bot, record: Handoff, note: str, response: str, session: Session | None
    ) -> None:
        """End a conversation: tell the person (with the feedback question) and close the topic."""
        await self._close(bot, record, note)
        chat_id = self._chat_of(record)
        if chat_id is None:
            return
        person_session = session or self._session_of(record)
        text = self.engine.system_text(response, person_session)
        await self.queue.ask_feedback(record.user)
        with contextlib.suppress(Forbidden):
            await send_reply(bot, chat_id, Reply(text, self.engine.feedback_buttons(person_session)))

    async def _close(self, bot: Bot, record: Handoff, note: str) -> None:
        await self.queue.close(record.user, record)
        log_event(log, "handoff_closed", alias=self.keys.log_alias(record.user), claimed=record.claimed)
        if record.topic is None:
            return
        await self.queue.topic_ended(record.topic, self.clock())  # deleted after PEERLINE_TOPIC_DAYS
        with contextlib.suppress(TelegramError):
            await self._post(bot, record.topic, "🔚 " + escape(note))
            if record.card is not None:
                await bot.edit_message_reply_markup(self.settings.chat_id, record.card, reply_markup=None)
            await bot.close_forum_topic(self.settings.chat_id, record.topic)

    async def _open_topic(self, bot: Bot, record: Handoff, reuse: int | None = None) -> Handoff:
        """A new topic (or `reuse`, the person's recent one, reopened) with the card; on failure the
        conversation stays queued and the sweep retries."""
        if reuse is not None:
            with contextlib.suppress(StoreUnavailable):
                await self.queue.forget_topics(reuse)  # in use again: not due for deletion
            with contextlib.suppress(TelegramError):  # not closed (TOPIC_NOT_MODIFIED), or gone: see below
                await bot.reopen_forum_topic(self.settings.chat_id, reuse)
            with contextlib.suppress(TelegramError):
                await bot.edit_forum_topic(self.settings.chat_id, reuse, name=card.topic_name(record))
            try:
                return await self._post_card(bot, record, reuse)
            except TelegramError:
                pass  # the topic is gone: a new one, as usual
        try:
            topic = await bot.create_forum_topic(self.settings.chat_id, card.topic_name(record))
            record = await self._post_card(bot, record, topic.message_thread_id)
        except TelegramError as exc:
            log_event(log, "handoff_topic_failed", logging.ERROR, error=type(exc).__name__)
            return record
        with contextlib.suppress(StoreUnavailable):
            await self.queue.note_topic_opened(record.user, topic.message_thread_id)
        return record

    async def _post_card(self, bot: Bot, record: Handoff, topic: int) -> Handoff:
        posted = await bot.send_message(
            self.settings.chat_id,
            self._card_text(record),
            parse_mode=ParseMode.HTML,
            message_thread_id=topic,
            reply_markup=self._card_buttons(record),
        )
        return await self.queue.set_topic(record, topic, posted.message_id)

    async def _in_topic(self, bot: Bot, record: Handoff, send: Callable[[int], Awaitable[T]]) -> T | None:
        """Send into the conversation's topic; a deleted or closed topic is replaced and the send retried."""
        if record.topic is not None:
            try:
                return await send(record.topic)
            except BadRequest as exc:
                if not _BROKEN_TOPIC.search(str(exc)):
                    raise
                log_event(log, "handoff_topic_replaced", alias=self.keys.log_alias(record.user))
        record = await self._open_topic(bot, record)
        if record.topic is None:
            return None
        await self._post(
            bot, record.topic, "♻️ The previous topic was lost; this conversation continues here."
        )
        return await send(record.topic)

    async def _post(self, bot: Bot, topic: int | None, text: str) -> Message | None:
        """A message to the group (a topic, or the general thread when `topic` is None)."""
        try:
            return await bot.send_message(
                self.settings.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                message_thread_id=topic,
                link_preview_options=NO_PREVIEW,
            )
        except TelegramError as exc:
            log_event(log, "handoff_post_failed", logging.WARNING, error=type(exc).__name__)
            return None

    async def _refresh_card(self, bot: Bot, record: Handoff) -> None:
        if record.card is None:
            return
        with contextlib.suppress(TelegramError):
            await bot.edit_message_text(
                self._card_text(record),
                self.settings.chat_id,
                record.card,
                parse_mode=ParseMode.HTML,
                reply_markup=self._card_buttons(record),
            )
        if record.topic is not None:
            with contextlib.suppress(TelegramError):
                await bot.edit_forum_topic(self.settings.chat_id, record.topic, name=card.topic_name(record))

    async def _announce_crisis(self, bot: Bot, record: Handoff) -> None:
        """A pinned alert, at most once per person per few minutes (the card says 🚨 every time)."""
        if not await self.queue.first_crisis_alert(record.user):
            return
        link = card.topic_link(self.settings.chat_id, record.topic)
        alert = await self._post(bot, None, card.crisis_alert(record, link))
        if alert is not None:
            with contextlib.suppress(TelegramError):
                await bot.pin_chat_message(self.settings.chat_id, alert.message_id)

    def _relay_failed(self, record: Handoff, direction: str, error: str, level: int) -> None:
        log_event(
            log,
            "relay_failed",
            level,
            alias=self.keys.log_alias(record.user),
            direction=direction,
            error=error,
        )

    async def _note_delay(self, bot: Bot, record: Handoff, seconds: float) -> None:
        delayed = seconds >= self.settings.delay_notice
        if delayed != record.delayed:
            record = await self.queue.update(record, delayed=delayed)
            await self._refresh_card(bot, record)

    async def _owner_refusal(self, supporter_id: int, record: Handoff, *, need_claim: bool = False) -> str:
        """Why this supporter may not act for the conversation's owner ("" if they may).

        With `need_claim`, a conversation nobody has claimed must be claimed first (admins excepted).
        """
        if supporter_id in self.settings.admin_ids:
            return ""
        if not record.claimed:
            return "Press Claim on the card first, so the team knows who is acting." if need_claim else ""
        if record.owner == self.keys.key(supporter_id):
            return ""
        return f"This conversation is with {record.owner_name or 'another supporter'}."

    async def _tell(self, bot: Bot, chat_id: int, response: str, session: Session, **values: object) -> None:
        extra = {k: str(v) for k, v in values.items()}
        await send_reply(bot, chat_id, Reply(self.engine.system_text(response, session, extra)))

    async def _tell_person(self, bot: Bot, record: Handoff, response: str, **values: object) -> None:
        chat_id = self._chat_of(record)
        if chat_id is not None:
            with contextlib.suppress(Forbidden):
                await self._tell(bot, chat_id, response, self._session_of(record), **values)

    def _chat_of(self, record: Handoff) -> int | None:
        try:
            return self.seal.open(record.chat, record.user)
        except SealBroken:
            log_event(log, "handoff_chat_unreadable", logging.ERROR, alias=self.keys.log_alias(record.user))
            return None

    def _session_of(self, record: Handoff) -> Session:
        """Enough of a session to speak to the person in their language and region."""
        return Session(locale=record.locale or None, region=record.region or None)

    def _card_text(self, record: Handoff) -> str:
        content = self.engine.brain.content
        intents = content.locale(record.locale or None).intents
        titles = [intents[i].title for i in record.intents if i in intents]
        return card.card_text(record, titles, content.region(record.region or None).name)

    def _card_buttons(self, record: Handoff) -> InlineKeyboardMarkup:
        buttons = (
            [] if record.claimed else [InlineKeyboardButton("Claim", callback_data=f"hc:{record.ticket}")]
        )
        buttons.append(InlineKeyboardButton("Close", callback_data=f"hx:{record.ticket}"))
        return InlineKeyboardMarkup([buttons])
