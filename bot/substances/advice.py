"""From a message to the combinations it asks about, most dangerous first, and their text."""

from __future__ import annotations

from itertools import combinations

from bot.content.html import escape
from bot.substances.model import MixingAdvice, MixingGuide, PairAdvice, Substance
from bot.substances.recogniser import Recogniser, about_taking_together

# Four substances make six pairs: still one readable Telegram message.
MAX_SUBSTANCES = 4


class MixingAdvisor:
    """Recognises substances in a message and looks every pair up in the combinations table."""

    def __init__(self, guide: MixingGuide) -> None:
        self.guide = guide
        self.recogniser = Recogniser(guide.lexicon)

    def advise(self, text: str) -> MixingAdvice | None:
        """None unless the message names two or more known substances taken together."""
        ids = self.recogniser.substances(text)[:MAX_SUBSTANCES]
        if len(ids) < 2 or not about_taking_together(text, self.guide.lexicon.cues):
            return None
        lexicon = self.guide.lexicon
        substances = tuple(lexicon.substances[i] for i in ids)
        pairs = [
            PairAdvice(
                a, b, self.guide.combination(a, b), lexicon.depressant(a.id) and lexicon.depressant(b.id)
            )
            for a, b in combinations(substances, 2)
        ]
        # Stable sort: equally risky pairs stay in the order the person named them.
        pairs.sort(key=lambda p: p.rank)
        known = tuple(p for p in pairs if p.combination is not None)
        unknown = tuple(p for p in pairs if p.combination is None)
        return MixingAdvice(substances, known, unknown)

    def pair_block(self, pair: PairAdvice, locale: str | None) -> str:
        """'<b>Xanax + methadone: Dangerous</b>' and the note, as Telegram HTML."""
        assert pair.combination is not None
        label = self.guide.label(pair.combination.risk, locale)
        title = f"{pair_name(pair, locale)}: {label}"
        return f"<b>{escape(title)}</b>\n{escape(pair.combination.note(locale))}"


def pair_name(pair: PairAdvice, locale: str | None) -> str:
    return f"{_name(pair.first, locale)} + {_name(pair.second, locale)}"


def _name(substance: Substance, locale: str | None) -> str:
    return substance.name(locale)
