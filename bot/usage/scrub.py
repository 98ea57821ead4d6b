"""Scrubbing a message before it may be kept: links, emails, @handles, phone numbers and all digits go."""

from __future__ import annotations

import re

_LINK = r"(?i)\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|me|ly|gg|co|uk|ru)\b\S*"
# Order matters: emails hold a domain and an @, links hold digits, so they go before links and numbers.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(_LINK), "[link]"),
    (re.compile(r"(?<![\w@])@\w{2,}"), "[handle]"),
    (re.compile(r"\+?\d[\d\s().-]{5,}\d"), "[number]"),  # phone-like runs: +1 (800) 662-4357
    (re.compile(r"\d+"), "[number]"),
)


def scrub(text: str) -> str:
    """The text with every link, email, @handle and number replaced by a marker; spaces tidied."""
    for pattern, marker in _RULES:
        text = pattern.sub(marker, text)
    return " ".join(text.split())
