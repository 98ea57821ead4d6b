"""What time alone should do to a handoff: pure decisions from (record, now, limits) to duties.

Nobody left unanswered: a waiting conversation is announced again, louder when in crisis; the person is
told when nobody has claimed yet; a supporter's silence re-alerts the group; an idle conversation gets a
reminder and then goes back to the bot, unless it is a crisis and the person is still writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.handoff.record import Handoff


@dataclass(frozen=True)
class HandoffLimits:
    """Seconds before each duty; all configurable (see `Settings`)."""

    realert_after: float = 180.0  # waiting unclaimed: announce again every this long
    tell_person_after: float = 600.0  # waiting unclaimed: tell the person, offer to keep waiting or leave
    silence_after: float = 600.0  # claimed, the person wrote last and the supporter has not answered
    idle_after: float = 1800.0  # claimed, nobody wrote: remind the topic
    return_after: float = 900.0  # ... then, still idle this much longer: the conversation returns to the bot


class Duty(Enum):
    REALERT = "realert"
    TELL_PERSON = "tell_person"
    SILENCE_ALERT = "silence_alert"
    IDLE_REMINDER = "idle_reminder"
    RETURN_TO_BOT = "return_to_bot"


def duties(record: Handoff, now: float, limits: HandoffLimits) -> list[Duty]:
    """The duties now due for this conversation, in the order to carry them out."""
    due: list[Duty] = []
    if not record.claimed:
        waited = now - record.since
        if waited >= limits.realert_after * (record.alerts + 1):
            due.append(Duty.REALERT)
        if waited >= limits.tell_person_after and not record.wait_notified:
            due.append(Duty.TELL_PERSON)
        return due
    last_activity = max(record.last_person, record.last_supporter, record.claimed_at)
    if (
        record.last_person > max(record.last_supporter, record.claimed_at)
        and now - record.last_person >= limits.silence_after
        and not record.silence_alerted
    ):
        due.append(Duty.SILENCE_ALERT)
    idle = now - last_activity
    if idle >= limits.idle_after and not record.idle_reminded:
        due.append(Duty.IDLE_REMINDER)
    elif record.idle_reminded and idle >= limits.idle_after + limits.return_after:
        # A person in crisis who is still writing is never handed back; `idle` covers their messages too.
        due.append(Duty.RETURN_TO_BOT)
    return due
