"""The seam to the peer-supporter handoff: what the Dialogue calls about a person and their supporter.

`SupportersDesk` (bot/telegram/desk.py) implements `HandoffService` for a supporters' group; without
one, `SupportersNotConnected` answers honestly that nobody will join the chat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from telegram import Bot

from bot.engine import Engine
from bot.errors import PeerlineError
from bot.events import Reply
from bot.handoff.record import Handoff
from bot.logs import log_event
from bot.session import Session
from bot.telegram.render import send_reply

log = logging.getLogger(__name__)

UNAVAILABLE_RESPONSE = "handoff_unavailable"
"""The system response sent when no supporters are connected (required content)."""
RELAY_FAILED_RESPONSE = "handoff_relay_failed"
"""What the person hears when a message could not reach their supporter (required content)."""


Erased = Literal["nothing", "deleted", "partly"]
"""What /forget (or a block) removed from the supporters' group: there was nothing there, all of it, or
not all of it (a topic and some of its messages could not be deleted; supporters were asked to)."""
EraseInGroup = Callable[[Bot], Awaitable[Erased]]
"""The deletes still to do in the supporters' group once the person's keys are gone."""
FORGOTTEN_RESPONSES: dict[Erased, str] = {
    "deleted": "forgotten_supporters",
    "partly": "forgotten_supporters_partly",
}
"""The reply to /forget when there was a conversation with supporters to delete (required content)."""


async def nothing_to_erase(bot: Bot) -> Erased:
    """The erasure when nobody ever talked to a supporter."""
    return "nothing"


class RelayFailed(PeerlineError):
    """A person's message could not be copied to their supporter: the group's side failed, not theirs."""


@dataclass(frozen=True)
class HandoffRequest:
    """Someone asked for a peer supporter; `chat_id` is for replying now and must not be stored in clear."""

    user: str  # KeyRing.key
    log_alias: str  # KeyRing.log_alias, for logs
    chat_id: int
    session: Session


class HandoffService(Protocol):
    """Connects a person with a peer supporter; every method may raise `StoreUnavailable`."""

    async def request(self, bot: Bot, request: HandoffRequest) -> None:
        """Queue the person for a supporter and tell them what happens next."""
        ...

    async def claimed_record(self, user: str) -> Handoff | None:
        """The person's handoff if a supporter has claimed it: their messages then go to the supporter."""
        ...

    async def relay_from_person(self, bot: Bot, record: Handoff, chat_id: int, message_id: int) -> None:
        """Copy one of the person's messages to their supporter.

        Raises `RelayFailed` if it could not get there. A Telegram error on the group's side is never raised
        as such: a `Forbidden` from the group (the bot was removed) does not mean the person blocked the bot.
        """
        ...

    async def note_crisis(self, bot: Bot, user: str) -> None:
        """The person sent a crisis message: flag their handoff, if they have one."""
        ...

    async def end_by_person(self, bot: Bot, user: str, chat_id: int, session: Session) -> None:
        """The person sent /end."""
        ...

    async def leave_queue(self, bot: Bot, user: str, chat_id: int, session: Session) -> None:
        """The person stopped waiting."""
        ...

    async def forget(self, user: str, *, blocked: bool = False) -> EraseInGroup:
        """The person asked to be forgotten, or (`blocked`) blocked the bot: end and remove any handoff.

        Only the store is touched here; the returned erasure deletes their conversations from the
        supporters' group, and is run once the person's other keys are gone (group sends are throttled).
        """
        ...

    async def take_feedback(self, user: str) -> bool:
        """True if the person was asked for feedback and has not answered yet (the answer then counts)."""
        ...


class SupportersNotConnected:
    """The handoff for deployments without supporters: says so, and points to services staffed by people."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def request(self, bot: Bot, request: HandoffRequest) -> None:
        log_event(log, "handoff_unavailable", alias=request.log_alias, reason="handoff_not_configured")
        await send_reply(bot, request.chat_id, Reply(self.text(request.session)))

    async def claimed_record(self, user: str) -> Handoff | None:
        return None

    async def relay_from_person(self, bot: Bot, record: Handoff, chat_id: int, message_id: int) -> None:
        """Never called: nothing is ever claimed."""

    async def note_crisis(self, bot: Bot, user: str) -> None:
        """Nothing to flag."""

    async def end_by_person(self, bot: Bot, user: str, chat_id: int, session: Session) -> None:
        await send_reply(bot, chat_id, Reply(self.engine.system_text("handoff_nothing_to_end", session)))

    async def leave_queue(self, bot: Bot, user: str, chat_id: int, session: Session) -> None:
        await send_reply(bot, chat_id, Reply(self.engine.system_text("handoff_left_queue", session)))

    async def forget(self, user: str, *, blocked: bool = False) -> EraseInGroup:
        """Nothing is kept."""
        return nothing_to_erase

    async def take_feedback(self, user: str) -> bool:
        return False  # nobody is ever asked

    def text(self, session: Session) -> str:
        """The content's `handoff_unavailable` response, filled for the person's region."""
        return self.engine.system_text(UNAVAILABLE_RESPONSE, session)
