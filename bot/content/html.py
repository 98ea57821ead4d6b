"""Checks and conversions for the subset of HTML that Telegram accepts."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "blockquote", "tg-spoiler", "span"}
)  # fmt: skip
BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")
TAG_RE = re.compile(r"<[^>]*>")


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed by Telegram")
            return
        if tag == "a" and not any(name == "href" and value for name, value in attrs):
            self.errors.append("<a> needs an href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close the last opened tag")
            return
        self.stack.pop()


def check_html(text: str) -> list[str]:
    """What is wrong with `text` as Telegram HTML (empty when it is fine)."""
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    errors = list(checker.errors)
    errors.extend(f"<{tag}> is never closed" for tag in checker.stack)
    if BARE_AMPERSAND.search(text):
        errors.append("a bare '&' must be written &amp;")
    stripped = TAG_RE.sub("", text)
    if "<" in stripped or ">" in stripped:
        errors.append("a bare '<' or '>' must be written &lt; or &gt;")
    return errors


def to_plain_text(text: str) -> str:
    """Telegram HTML to terminal text: links keep their address, tags go, entities decode."""
    text = re.sub(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', r"\2 (\1)", text, flags=re.S)
    return html.unescape(TAG_RE.sub("", text))


def escape(text: str, *, quote: bool = False) -> str:
    """Escape text from users, files or resources for (Telegram) HTML; `quote=True` inside an attribute."""
    return html.escape(text, quote=quote)
