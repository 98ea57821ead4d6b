"""What reaches the engine (events) and what it asks the adapters to do (actions)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.nlu.matcher import MatchResult
from bot.session import Session


@dataclass(frozen=True)
class TextMessage:
    """Something a person wrote."""

    text: str


@dataclass(frozen=True)
class ButtonPress:
    """A press on one of our inline buttons; `data` is untrusted until the engine parses it."""

    data: str


@dataclass(frozen=True)
class Command:
    """A slash command such as /start or /region uk."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class NonText:
    """A sticker, photo, voice note or anything else the bot cannot read."""

    kind: str


@dataclass(frozen=True)
class Location:
    """A location the person shared; used for one answer and never stored or logged."""

    latitude: float
    longitude: float

    def __repr__(self) -> str:
        return "Location(<not shown>)"  # so a traceback or debug print cannot leak where someone is


Event = TextMessage | ButtonPress | Command | NonText | Location


@dataclass(frozen=True)
class Button:
    """An inline button: a label and short callback data the engine understands."""

    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    """Send this Telegram-HTML text with these buttons (one per row)."""

    text: str
    buttons: tuple[Button, ...] = ()
    crisis: bool = False


@dataclass(frozen=True)
class RequestHandoff:
    """The person confirmed they want a peer supporter: queue them (the adapter tells them their place)."""


@dataclass(frozen=True)
class EndHandoff:
    """The person sent /end: close their conversation with a supporter, if there is one."""


@dataclass(frozen=True)
class LeaveQueue:
    """The person chose to stop waiting for a supporter."""


@dataclass(frozen=True)
class Feedback:
    """Anonymous feedback on a conversation with a supporter, counted and never linked to the person."""

    helpful: bool


@dataclass(frozen=True)
class ForgetUser:
    """Delete everything stored about the person."""


Action = Reply | RequestHandoff | EndHandoff | LeaveQueue | Feedback | ForgetUser


@dataclass(frozen=True)
class Outcome:
    """The engine's decision: actions in order, the new session (None: delete it) and why."""

    actions: tuple[Action, ...]
    session: Session | None
    intent: str | None = None
    match: MatchResult | None = None
    risk: str | None = None  # "crisis" or "check_in" when the reply was chosen for risk

    @property
    def replies(self) -> tuple[Reply, ...]:
        return tuple(a for a in self.actions if isinstance(a, Reply))
