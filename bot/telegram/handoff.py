"""The seam to the peer-supporter handoff: what the Telegram adapter calls when someone asks for a person.

The queue, claiming and relaying will live in their own module and implement `HandoffService`. Until a
deployment wires one in, `SupportersNotConnected` answers honestly that nobody will join the chat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from telegram import Bot

from bot.engine import Engine
from bot.events import Reply
from bot.logs import log_event
from bot.session import Session
from bot.telegram.render import send_reply

log = logging.getLogger(__name__)

UNAVAILABLE_RESPONSE = "handoff_unavailable"
"""The system response sent when no supporters are connected (required content)."""


@dataclass(frozen=True)
class HandoffRequest:
    """Someone asked for a peer supporter; `chat_id` is for replying now and must not be stored in clear."""

    user: str  # UserKeys.key
    alias: str  # UserKeys.alias, for logs
    chat_id: int
    session: Session


class HandoffService(Protocol):
    """Connects a person with a peer supporter."""

    async def request(self, bot: Bot, request: HandoffRequest) -> None:
        """Queue the person for a supporter and tell them what happens next."""
        ...


class SupportersNotConnected:
    """The handoff for deployments without supporters: says so, and points to services staffed by people."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def request(self, bot: Bot, request: HandoffRequest) -> None:
        log_event(log, "handoff_unavailable", alias=request.alias, reason="handoff_not_configured")
        await send_reply(bot, request.chat_id, Reply(self.text(request.session)))

    def text(self, session: Session) -> str:
        """The content's `handoff_unavailable` response, filled for the person's region."""
        return self.engine.system_text(UNAVAILABLE_RESPONSE, session)
