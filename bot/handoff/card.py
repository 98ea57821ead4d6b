"""What supporters read in their group: the conversation card, alerts and command answers (pure text).

Supporters' texts are staff tools, written here in English; what people hear lives in the content.
Nothing here ever includes a person's name, username, Telegram id or words: only the conversation name, times,
region, language and the titles of topics the bot answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.content.html import escape
from bot.handoff.record import Handoff

DEFAULT_SUPPORTER_NAME = "a peer supporter"

# /help in the supporters' group; docs/supporters.md shows the same text (scripts/generate_docs.py).
SUPPORTERS_HELP = "\n".join(
    [
        "<b>Peer supporters: the short version</b>",
        "",
        "<b>A new conversation</b> opens its own topic with a card. Press <b>Claim</b> to take it. "
        "Set the name people see once: /alias Sam",
        "",
        "<b>Talk</b> by writing in the topic: it is copied to the person without your name or "
        "account. Start a line with // for a note to the team: it is not sent.",
        "",
        "<b>In a conversation's topic</b>",
        "/end: finish; the person is back with the bot",
        "/release: give it back to the queue for someone else",
        "/refer naloxone Portland: send the person nearby services",
        "/block: they can't reach supporters for a while; the bot still answers them",
        "",
        "<b>Anywhere here</b>",
        "/queue: who is waiting, crisis first",
        "/mine: your conversations",
        "/unblock NAME: undo a /block",
        "",
        "<b>🚨 Crisis</b>: the bot has already sent the emergency number and crisis line. Stay with "
        "them and follow your team's crisis plan. You are not an emergency service.",
        "",
        "They never see your name or account; you never see theirs.",
        "",
        "After a hard conversation, take a break and talk it through with your team.",
    ]
)


def clock_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M UTC")


def minutes(seconds: float) -> str:
    whole = max(0, int(seconds // 60))
    return "under a minute" if whole == 0 else f"{whole} min"


def card_text(record: Handoff, topics: Sequence[str], region_name: str) -> str:
    """The card at the top of a conversation's topic."""
    if record.crisis:
        status = "🚨 <b>CRISIS</b>"
    elif record.claimed:
        status = "🟢 With " + escape(record.owner_name or DEFAULT_SUPPORTER_NAME)
    else:
        status = "🟡 Waiting"
    lines = [
        f"{status} · <b>{escape(record.conversation_name)}</b>",
        f"Waiting since {clock_time(record.since)}",
        f"Region: {escape(region_name or record.region or 'not set')}"
        f" · Language: {escape(record.locale or '?')}",
        "Topics so far: " + (escape(", ".join(topics)) if topics else "none yet"),
    ]
    if record.crisis and record.claimed:
        lines.append("With " + escape(record.owner_name or DEFAULT_SUPPORTER_NAME))
    if record.crisis:
        lines.append("The bot has sent the crisis reply (emergency number and crisis line).")
    if record.delayed:
        lines.append("⏳ Relaying is delayed by Telegram's limit for groups: messages are queued, not lost.")
    lines.append("")
    lines.append(
        "Press Claim to take this conversation. Lines starting with // are notes for the team and are "
        "not sent. /end or Close ends it, /release gives it back to the queue."
    )
    return "\n".join(lines)


def topic_name(record: Handoff) -> str:
    return ("🚨 " if record.crisis else "") + record.conversation_name


def waiting_alert(record: Handoff, now: float, link: str) -> str:
    """The group is reminded of a conversation nobody has claimed."""
    waited = minutes(now - record.since)
    who = (
        f'<a href="{escape(link)}">{escape(record.conversation_name)}</a>'
        if link
        else f"<b>{escape(record.conversation_name)}</b>"
    )
    if record.crisis:
        return f"🚨 <b>Crisis conversation waiting</b>: {who}, {waited}. Please claim it now."
    return f"🔔 Still waiting: {who}, {waited}. Can someone claim it?"


def crisis_alert(record: Handoff, link: str) -> str:
    who = (
        f'<a href="{escape(link)}">{escape(record.conversation_name)}</a>'
        if link
        else f"<b>{escape(record.conversation_name)}</b>"
    )
    return f"🚨 <b>Crisis</b> in {who}. The bot has sent the crisis reply; a supporter is needed now."


def silence_alert(record: Handoff, now: float, link: str) -> str:
    who = (
        f'<a href="{escape(link)}">{escape(record.conversation_name)}</a>'
        if link
        else f"<b>{escape(record.conversation_name)}</b>"
    )
    return (
        f"⏰ {who} has had no reply for {minutes(now - record.last_person)}"
        f" ({escape(record.owner_name or DEFAULT_SUPPORTER_NAME)} claimed it). Can someone check in?"
    )


def idle_reminder(return_after: float) -> str:
    return (
        f"⏰ This conversation has been quiet. If nobody writes within {minutes(return_after)}, "
        "the person goes back to the bot."
    )


def queue_text(waiting: Sequence[Handoff], now: float, links: Sequence[str]) -> str:
    if not waiting:
        return "Nobody is waiting."
    rows = []
    for index, (record, link) in enumerate(zip(waiting, links, strict=True), start=1):
        mark = "🚨 " if record.crisis else ""
        name = (
            f'<a href="{escape(link)}">{escape(record.conversation_name)}</a>'
            if link
            else escape(record.conversation_name)
        )
        rows.append(f"{index}. {mark}{name}: waiting {minutes(now - record.since)}")
    return "<b>Waiting</b> (crisis first, then oldest):\n" + "\n".join(rows)


def mine_text(records: Sequence[Handoff], now: float, links: Sequence[str]) -> str:
    if not records:
        return "You have no conversations right now."
    rows = []
    for record, link in zip(records, links, strict=True):
        name = (
            f'<a href="{escape(link)}">{escape(record.conversation_name)}</a>'
            if link
            else escape(record.conversation_name)
        )
        rows.append(
            f"• {'🚨 ' if record.crisis else ''}{name}: claimed {minutes(now - record.claimed_at)} ago"
        )
    return "<b>Your conversations</b>:\n" + "\n".join(rows)


def topic_link(chat_id: int, topic: int | None) -> str:
    """A t.me link into a private supergroup's topic (members only), or "" without a topic."""
    text = str(chat_id)
    if topic is None or not text.startswith("-100"):
        return ""
    return f"https://t.me/c/{text[4:]}/{topic}"
