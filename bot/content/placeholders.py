"""The one placeholder syntax of responses: ``{name}`` is filled, ``{{`` and ``}}`` are literal braces.

`find` and `check` see every ``{...}`` (so a misspelt ``{Emergency number}`` is reported, not ignored);
`fill` replaces the names it has values for and leaves any other visible rather than let it vanish.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from bot.content.html import escape
from bot.content.model import Region

PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def find(text: str) -> list[str]:
    """The names used as {placeholder} in `text`, in order (doubled braces are literal)."""
    return [m.group(1) for m in PLACEHOLDER_RE.finditer(text) if m.group(1) is not None]


def check(text: str, known: Collection[str]) -> list[str]:
    """The names in `text` that are not in `known`, each once, in order."""
    return list(dict.fromkeys(name for name in find(text) if name not in known))


def fill(text: str, region: Region, extra: Mapping[str, str] | None = None) -> str:
    """Placeholders become the region's (or `extra`'s) values, escaped for Telegram HTML."""
    values = {**region.values, **(extra or {})}

    def value(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0]  # "{{" or "}}"
        return escape(values[name]) if name in values else token

    return PLACEHOLDER_RE.sub(value, text)
