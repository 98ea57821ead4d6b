"""Frozen content objects: what the loader produces and everything else reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Placeholders filled from resources/regions.yml; a region must define every one.
REGION_PLACEHOLDERS: tuple[str, ...] = (
    "region_name",
    "emergency_number",
    "crisis_line",
    "treatment_helpline",
    "overdose_line",
    "treatment_finder",
    "naloxone_access",
    "poison_line",
    "good_samaritan",  # what the law says about calling at an overdose; no promise where there is no law
)
# Placeholders the engine fills itself in system responses.
ENGINE_PLACEHOLDERS: tuple[str, ...] = (
    "suggestion",
    "position",
    "supporter",
    "next_open",
    "bot",
    "time",
    "day",
    "distance",
    "value",
    "substances",
)
KNOWN_PLACEHOLDERS = frozenset(REGION_PLACEHOLDERS + ENGINE_PLACEHOLDERS)

# The frame around specific answers about mixing substances (the notes come from substances/).
MIXING_RESPONSES: tuple[str, ...] = (
    "mixing_specific",
    "mixing_unknown_pair",
    "mixing_more",
    "mixing_depressants",
    "mixing_general",
)
# The emergency replies, one per kind of emergency, and the check-in tier (responses/<locale>/crisis.yml).
# Every variant must give {emergency_number} and {crisis_line}; see bot/content/checks.py.
CRISIS_RESPONSES: tuple[str, ...] = (
    "crisis_overdose",  # someone else overdosing on opioids, or unclear
    "crisis_self_overdose",  # "I took too much", still able to type: no bystander steps
    "crisis_stimulant",  # chest pain, overheating, seizure after stimulants or MDMA
    "crisis_depressant",  # alcohol, benzos, GHB: can't be woken, vomiting while drowsy
    "crisis_pills",  # pills by the handful or the bottle; a double dose of a prescription
    "crisis_suicide",
    "crisis_means",  # someone at risk says the means are at hand
    "crisis_again",  # a new risk signal after a crisis reply: shorter
    "check_in",  # not sure: ask directly, with the crisis line at once
    "check_in_ok",  # after "No, I'm okay"
)
# Responses the engine sends outside of intents; every locale must have them.
SYSTEM_RESPONSES: tuple[str, ...] = (
    "welcome",
    "fallback",
    "fallback_again",
    "confirm",
    "confirm_declined",
    "non_text",
    "resources",
    "region_set",
    "forgotten",
    "forgotten_supporters",  # /forget deleted conversations from the supporters' group (bot/telegram/)
    "forgotten_supporters_partly",
    "flood",
    "handoff_terminal",
    "empty",
    "stale_button",
    "region_choose",
    "forget_confirm",
    "forget_cancelled",
    "unknown_command",
    "handoff_unavailable",
    "crisis_followup",
    # The handoff to peer supporters (responses/<locale>/handoff.yml).
    "handoff_declined",
    "handoff_relay_failed",
    "handoff_not_passed_on",  # a contact, file or forward kept from the supporter (bot/telegram/dialogue.py)
    "handoff_queued",
    "handoff_already_waiting",
    "handoff_joined",
    "handoff_ended",
    "handoff_ended_by_supporter",
    "handoff_released",
    "handoff_wait_notice",
    "handoff_keep_waiting",
    "handoff_left_queue",
    "handoff_closed_hours",
    "handoff_not_available",
    "handoff_returned_idle",
    "handoff_nothing_to_end",
    "feedback_thanks",
    "private_only",
    "edited",
    "language_choose",
    "language_set",
    *CRISIS_RESPONSES,
    *MIXING_RESPONSES,
)
# Button labels the engine shows outside of intents; every locale's `labels:` must have them.
LABELS: tuple[str, ...] = (
    "confirm_yes",
    "confirm_no",
    "forget_yes",
    "forget_no",
    "talk_to_person",
    "language_name",
    "handoff_connect",
    "handoff_not_now",
    "handoff_keep_waiting",
    "handoff_leave_queue",
    "feedback_helpful",
    "feedback_not_helpful",
    # The check-in's answers (see check_in in CRISIS_RESPONSES).
    "check_in_yes",
    "check_in_other",
    "check_in_no",
)
# Country codes (ISO 3166) whose region code differs: the United Kingdom's is "gb".
COUNTRY_REGIONS: Mapping[str, str] = MappingProxyType({"gb": "uk"})
# "unsure", "fine" and "someone_else" answer the check-in ("are you thinking about suicide?").
SHORT_REPLY_KINDS: tuple[str, ...] = ("yes", "no", "more", "skip", "unsure", "fine", "someone_else")

PHONE_FRIENDLY_CHARS = 900
MIN_EXAMPLES = 12


@dataclass(frozen=True)
class SourceRef:
    """Where a piece of content was written, for error messages."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class FollowUp:
    """A button under a reply that leads to another intent."""

    label: str
    intent: str


@dataclass(frozen=True)
class Intent:
    """Something a person may want, with the phrasings that express it."""

    id: str
    title: str
    response: str
    locale: str
    examples: tuple[str, ...]
    source: SourceRef
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    urgent: tuple[str, ...] = ()
    crisis: bool = False
    check_in: bool = False  # possible risk: the bot asks directly instead of answering (see bot.nlu.risk)
    priority: int = 0
    follow_ups: tuple[FollowUp, ...] = ()
    services: tuple[str, ...] = ()  # kinds of local service this intent can refer to
    example_lines: tuple[int, ...] = ()
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.source.line)

    @property
    def risk(self) -> str | None:
        """The risk tier this intent stands for: "crisis", "check_in" or None."""
        return "crisis" if self.crisis else "check_in" if self.check_in else None


@dataclass(frozen=True)
class Response:
    """A reply in Telegram HTML, with variants so it does not repeat word for word."""

    id: str
    locale: str
    variants: tuple[str, ...]
    source: SourceRef
    variant_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Region:
    """Public resources for one region; values are plain text, escaped when rendered."""

    code: str
    values: Mapping[str, str]
    source: SourceRef
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # locale -> overrides

    @property
    def name(self) -> str:
        return self.values.get("region_name", self.code)

    def in_locale(self, locale: str) -> Region:
        """The region with that locale's values (e.g. its `es:` block) over the default ones."""
        overrides = self.translations.get(locale)
        if not overrides:
            return self
        return Region(self.code, frozen_map({**self.values, **overrides}), self.source, self.translations)


@dataclass(frozen=True)
class Locale:
    """All content in one language."""

    code: str
    intents: Mapping[str, Intent]
    responses: Mapping[str, Response]
    synonyms: Mapping[str, str]  # variant -> canonical
    short_replies: Mapping[str, frozenset[str]] = field(default_factory=dict)  # yes/no/more
    stopwords: frozenset[str] = frozenset()  # words too common to tell intents apart
    labels: Mapping[str, str] = field(default_factory=dict)  # button labels the engine shows
    markers: frozenset[str] = frozenset()  # words that show a message is in this language
    # Statements that sound like a risk but are not ("im not suicidal, just asking"): the risk contrast.
    look_alikes: tuple[str, ...] = ()

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


@dataclass(frozen=True)
class Content:
    """One complete, validated set of content; replaced whole on reload, never edited."""

    locales: Mapping[str, Locale]
    regions: Mapping[str, Region]
    default_region: str
    default_locale: str
    version: str
    files: tuple[str, ...] = field(default=())

    def locale(self, code: str | None) -> Locale:
        return self.locales.get(code or "", self.locales[self.default_locale])

    def region(self, code: str | None) -> Region:
        return self.regions.get(code or "", self.regions[self.default_region])

    def region_for_language(self, language_code: str | None) -> str | None:
        """The region a language tag's country names ("es-MX" -> "mx", "en-GB" -> "uk"), if we have it.

        A hint only: Telegram often sends the bare language ("es"), which names no country.
        """
        parts = (language_code or "").replace("_", "-").lower().split("-")
        country = next((p for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
        code = COUNTRY_REGIONS.get(country or "", country)
        return code if code in self.regions else None


def frozen_map(items: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only view, so loaded content cannot be changed by accident."""
    return MappingProxyType(dict(items))
