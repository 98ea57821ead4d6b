"""One placeholder syntax for finding, checking and filling, and one HTML escape."""

from __future__ import annotations

from bot.content.html import escape
from bot.content.model import Region, SourceRef
from bot.content.placeholders import check, fill, find

REGION = Region("us", {"emergency_number": "911", "crisis_line": "988 <call or text>"}, SourceRef("r.yml", 1))


def test_find_sees_every_braced_name_and_skips_doubled_braces() -> None:
    text = "Call {emergency_number} or {crisis_line}; {{literal}} and {Emergency Number} and {crisis_line}"
    assert find(text) == ["emergency_number", "crisis_line", "Emergency Number", "crisis_line"]


def test_check_names_each_unknown_placeholder_once() -> None:
    text = "{emergency_number} {typo_line} {Emergency Number} {typo_line}"
    assert check(text, {"emergency_number", "crisis_line"}) == ["typo_line", "Emergency Number"]


def test_fill_escapes_values_keeps_unknown_names_visible_and_undoubles_braces() -> None:
    text = "Call {emergency_number}, text {crisis_line}; {unknown} and {Emergency Number}; {{x}}"
    assert fill(text, REGION) == (
        "Call 911, text 988 &lt;call or text&gt;; {unknown} and {Emergency Number}; {x}"
    )


def test_fill_prefers_extra_values_over_the_regions() -> None:
    assert fill("{emergency_number} {suggestion}", REGION, {"suggestion": "a & b"}) == "911 a &amp; b"


def test_escape_leaves_quotes_in_text_and_escapes_them_in_attributes() -> None:
    assert escape('say "hi" <b>') == 'say "hi" &lt;b&gt;'
    assert escape('https://x.org/?a="1"&b', quote=True) == "https://x.org/?a=&quot;1&quot;&amp;b"
