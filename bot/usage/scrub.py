"""Scrubbing a message before it may be kept: links, emails, @handles, phone numbers and all digits go.

Every pattern runs in time linear in the text: an email or a bare domain may only start where a run of
word, dot or dash characters starts (the look-behinds), so a long `a-a-a-…` or `1.1.1.…` is scanned once,
not once from every position (which took over a second for one 4,096-character message).
"""

from __future__ import annotations

import re

_LINK = (
    r"(?i)\b(?:https?://|www\.)\S+"
    r"|(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|me|ly|gg|co|uk|ru)\b\S*"
)
# Order matters: emails hold a domain and an @, links hold digits, so they go before links and numbers.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
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


def scrub_prefix(text: str, max_chars: int) -> str:
    """`scrub` of about the first `max_chars` characters only, cut to `max_chars`.

    The text is cut at whitespace before scrubbing (the rest is never kept anyway), dropping a last word
    the cut went through, so half an email or number can't slip past the patterns.
    """
    if len(text) > max_chars:
        head = text[: max_chars + 1]
        text = head.rsplit(None, 1)[0] if any(c.isspace() for c in head) else ""
    return scrub(text)[:max_chars]
