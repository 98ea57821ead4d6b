"""Fill a response's placeholders for a region, escaping every value for Telegram HTML."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.content.html import escape
from bot.content.model import Region

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")


def render(text: str, region: Region, extra: Mapping[str, str] | None = None) -> str:
    """Placeholders become escaped values; unknown ones stay visible rather than vanish."""
    values = {**region.values, **(extra or {})}

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        return escape(values[name]) if name in values else token

    return _PLACEHOLDER.sub(fill, text)
