"""What the bot remembers about a person between messages: small, no message text, easy to expire."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

MAX_RECENT = 5

PendingKind = Literal["confirm", "forget", "handoff", "place", "check_in"]
PENDING_KINDS: tuple[str, ...] = ("confirm", "forget", "handoff", "place", "check_in")


@dataclass(frozen=True)
class Pending:
    """A question the bot asked, so that a plain "yes" or "no" next makes sense."""

    kind: PendingKind
    intent: str | None = None
    alternative: str | None = None
    offset: int = 0  # "place": how many services were already shown; the place itself is never kept


@dataclass(frozen=True)
class Session:
    """Light conversation context: ids and counters only, never the words a person wrote."""

    locale: str | None = None
    region: str | None = None
    recent_intents: tuple[str, ...] = ()
    pending: Pending | None = None
    fallbacks: int = 0
    last_variants: tuple[tuple[str, int], ...] = field(default=())
    place_notice_shown: bool = False  # told once that a place sent is used for one answer only
    # Set by a crisis reply or a "yes" to a check-in; kept for the session's life (its TTL), so a goodbye
    # or an unclear message later still gets a caring close with the crisis line.
    at_risk: bool = False

    @property
    def last_intent(self) -> str | None:
        return self.recent_intents[0] if self.recent_intents else None

    def after_intent(self, intent_id: str) -> Session:
        recent = (intent_id, *(i for i in self.recent_intents if i != intent_id))[:MAX_RECENT]
        return replace(self, recent_intents=recent, pending=None, fallbacks=0)

    def variant_after(self, response_id: str, count: int) -> tuple[int, Session]:
        """The next variant of a response (never the one sent last time) and the updated session."""
        last = dict(self.last_variants).get(response_id, -1)
        index = (last + 1) % count if count else 0
        kept = tuple((r, i) for r, i in self.last_variants if r != response_id)
        return index, replace(self, last_variants=((response_id, index), *kept)[: MAX_RECENT * 2])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for stores."""
        data: dict[str, Any] = {
            "locale": self.locale,
            "region": self.region,
            "recent": list(self.recent_intents),
            "fallbacks": self.fallbacks,
            "variants": [[r, i] for r, i in self.last_variants],
        }
        if self.pending:
            data["pending"] = [self.pending.kind, self.pending.intent, self.pending.alternative]
            if self.pending.offset:
                data["pending"].append(self.pending.offset)
        if self.place_notice_shown:
            data["place_notice"] = True
        if self.at_risk:
            data["at_risk"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """Tolerant of missing or odd fields, so a store written by an older version still loads."""
        pending = None
        raw = data.get("pending")
        if isinstance(raw, list) and len(raw) in (3, 4) and raw[0] in PENDING_KINDS:
            offset = raw[3] if len(raw) == 4 and isinstance(raw[3], int) and raw[3] > 0 else 0
            pending = Pending(raw[0], raw[1], raw[2], offset)
        variants = tuple(
            (str(v[0]), int(v[1]))
            for v in data.get("variants", [])
            if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int)
        )
        return cls(
            locale=data.get("locale") if isinstance(data.get("locale"), str) else None,
            region=data.get("region") if isinstance(data.get("region"), str) else None,
            recent_intents=tuple(str(i) for i in data.get("recent", []))[:MAX_RECENT],
            pending=pending,
            fallbacks=int(data.get("fallbacks", 0) or 0),
            last_variants=variants,
            place_notice_shown=data.get("place_notice") is True,
            at_risk=data.get("at_risk") is True,
        )
