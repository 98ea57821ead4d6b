"""One conversation handed to peer supporters, as stored in a Redis hash (field-level updates stay atomic)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Literal

HandoffState = Literal["waiting", "claimed"]
# Fields stored under another name: records written before the rename (and a rolled-back bot) read alike.
STORED_AS = {"conversation_name": "alias"}


@dataclass(frozen=True)
class Handoff:
    """Everything the desk knows about one handed-off conversation; no names, no words, no raw ids.

    `conversation_name` is what supporters call it ("Blue Heron 4821", `KeyRing.conversation_name`);
    `chat` is the person's chat id sealed with `ChatIdSeal`; `owner` is a supporter's hashed key.
    Times are Unix seconds from the desk's clock.
    """

    user: str
    ticket: str
    conversation_name: str
    chat: str
    since: float
    state: HandoffState = "waiting"
    topic: int | None = None
    card: int | None = None
    crisis: bool = False
    region: str = ""
    locale: str = ""
    intents: tuple[str, ...] = ()
    owner: str = ""
    owner_name: str = ""
    claimed_at: float = 0.0
    last_person: float = 0.0
    last_supporter: float = 0.0
    alerts: int = 0  # re-announcements of a waiting conversation in the group
    wait_notified: bool = False  # the person was told nobody has claimed yet
    silence_alerted: bool = False  # the group was told the supporter has gone quiet
    idle_reminded: bool = False  # the topic was reminded that the conversation is idle
    delayed: bool = False  # the card says relaying is held up by Telegram's group limit
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def claimed(self) -> bool:
        return self.state == "claimed"

    def to_hash(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in fields(self):
            if f.name in ("user", "extra"):
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            name = STORED_AS.get(f.name, f.name)
            if isinstance(value, bool):
                out[name] = "1" if value else "0"
            elif isinstance(value, tuple):
                out[name] = ",".join(value)
            else:
                out[name] = str(value)
        return out

    @classmethod
    def from_hash(cls, user: str, raw: dict[str, str]) -> Handoff | None:
        """The record, or None when the hash is missing its essentials (e.g. half-deleted)."""
        if not all(raw.get(k) for k in ("ticket", STORED_AS["conversation_name"], "chat", "since")):
            return None

        def number(name: str) -> float:
            try:
                return float(raw.get(name) or 0)
            except ValueError:
                return 0.0

        def whole(name: str) -> int | None:
            value = raw.get(name)
            return int(value) if value and value.lstrip("-").isdigit() else None

        return cls(
            user=user,
            ticket=raw["ticket"],
            conversation_name=raw[STORED_AS["conversation_name"]],
            chat=raw["chat"],
            since=number("since"),
            state="claimed" if raw.get("state") == "claimed" else "waiting",
            topic=whole("topic"),
            card=whole("card"),
            crisis=raw.get("crisis") == "1",
            region=raw.get("region", ""),
            locale=raw.get("locale", ""),
            intents=tuple(i for i in raw.get("intents", "").split(",") if i),
            owner=raw.get("owner", ""),
            owner_name=raw.get("owner_name", ""),
            claimed_at=number("claimed_at"),
            last_person=number("last_person"),
            last_supporter=number("last_supporter"),
            alerts=whole("alerts") or 0,
            wait_notified=raw.get("wait_notified") == "1",
            silence_alerted=raw.get("silence_alerted") == "1",
            idle_reminded=raw.get("idle_reminded") == "1",
            delayed=raw.get("delayed") == "1",
        )

    def with_changes(self, **changes: object) -> Handoff:
        return replace(self, **changes)  # type: ignore[arg-type]
