"""Hostile and odd input through the whole engine: generated conversations never raise, every reply is
Telegram HTML Telegram would accept, and a crisis message buried in noise still gets the crisis reply.

The examples are kept modest so the suite stays fast; `bench/fuzz_nlu.py` runs 100,000 inputs through the
normaliser and matcher.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.brain import Brain
from bot.content.html import check_html
from bot.engine import COMMANDS, Engine
from bot.events import ButtonPress, Command, Event, Location, NonText, TextMessage
from bot.nlu.normalise import MAX_CHARS
from bot.session import Session

TELEGRAM_MAX_CHARS = 4096
CRISIS_MESSAGES = (
    "my friend is not breathing and wont wake up",
    "he overdosed and is turning blue",
    "i want to kill myself",
    "mi amigo no respira",
)
ODD_PIECES = (
    "<b>",
    "</i>",
    "<script>alert(1)</script>",
    "&amp;",
    "&",
    "<",
    ">",
    '<a href="javascript:x">',
    "\u202e",  # right-to-left override
    "\u200f",
    "مرحبا",
    "שלום",
    "🙃",
    "👨‍👩‍👧",
    "\x00",
    "\x07",
    "\r\n",
    "\t",
    "\ufeff",
    "ＮＡＲＣＡＮ",
    "/start",
    "{placeholder}",
    "%s",
    "yes",
    "no",
)

# Text of every kind: anything Unicode, odd pieces glued together, and now and then a very long string.
any_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(ODD_PIECES), max_size=30).map("".join),
    st.builds(
        lambda piece, n: piece * n, st.sampled_from([*ODD_PIECES, "a", "naloxone "]), st.integers(1, 2000)
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=3000, max_size=5000),
)
events = st.one_of(
    st.builds(TextMessage, any_text),
    st.builds(
        ButtonPress, st.one_of(st.text(max_size=80), st.from_regex(r"[a-z]{1,8}:[A-Za-z0-9_:.-]{0,40}"))
    ),
    st.builds(Command, st.one_of(st.sampled_from(sorted(COMMANDS)), st.text(max_size=40)), any_text),
    st.builds(NonText, st.sampled_from(["sticker", "photo", "voice", "other", "edited", ""])),
    st.builds(Location, st.floats(allow_nan=True), st.floats(allow_infinity=True)),
)
noise = st.lists(st.sampled_from([*ODD_PIECES, " ", "\n", "!!!", "..."]), max_size=40).map("".join)

PIPELINE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def conversation(engine: Engine, turns: list[Event]) -> tuple[Session, list[str]]:
    """Run the events in order, carrying the session as the bot does; every reply text."""
    session, texts = Session(), []
    for event in turns:
        outcome = engine.handle(event, session)
        texts.extend(reply.text for reply in outcome.replies)
        session = outcome.session or Session()
    return session, texts


@PIPELINE
@given(turns=st.lists(events, min_size=1, max_size=6))
def test_any_conversation_gets_valid_telegram_html_replies(brain: Brain, turns: list[Event]) -> None:
    _, texts = conversation(Engine(brain), turns)
    for text in texts:
        assert text.strip(), "an empty reply would be refused by Telegram"
        assert len(text) <= TELEGRAM_MAX_CHARS
        assert check_html(text) == [], text[:300]


@PIPELINE
@given(
    before=st.lists(events, max_size=4),
    head=noise,
    crisis=st.sampled_from(CRISIS_MESSAGES),
    tail=noise,
)
def test_crisis_in_noise_gets_the_crisis_reply_after_anything(
    brain: Brain, before: list[Event], head: str, crisis: str, tail: str
) -> None:
    engine = Engine(brain)
    session, _ = conversation(engine, before)
    text = f"{head}\n{crisis}\n{tail}"[:MAX_CHARS]
    outcome = engine.handle(TextMessage(text), session)
    assert outcome.replies and outcome.replies[0].crisis, repr(text[:200])


@settings(max_examples=200, deadline=None)
@given(text=any_text)
def test_matcher_takes_any_text(brain: Brain, text: str) -> None:
    for locale in brain.content.locales:
        result = brain.matcher(locale).match(text)
        assert 0.0 <= result.score <= 100.0  # rapidfuzz scale
        assert result.intent is None or result.intent in brain.content.locale(locale).intents


def test_location_not_on_earth_gets_an_answer_not_an_error(brain: Brain) -> None:
    engine = Engine(brain)
    for latitude, longitude in [(float("inf"), 0.0), (float("nan"), 1.0), (1e308, -1e308), (0.0, 180.0)]:
        outcome = engine.handle(Location(latitude, longitude), Session())
        assert outcome.replies and check_html(outcome.replies[0].text) == []
