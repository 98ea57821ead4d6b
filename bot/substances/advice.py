"""From a message to the combinations it asks about, most dangerous first, and their text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

from bot.content.html import escape
from bot.substances.model import MixingAdvice, MixingGuide, PairAdvice, Substance
from bot.substances.recogniser import Recogniser, about_taking_together

# Five substances make ten pairs; what does not fit one message is named in "mixing_more".
MAX_SUBSTANCES = 5
# Telegram's limit is 4,096 characters; counting the HTML tags too leaves a margin.
REPLY_LIMIT = 4000
# Room kept for the "I also have notes on ..." line when some combinations do not fit.
MORE_ALLOWANCE = 300
Say = Callable[[str, str], str]


class MixingAdvisor:
    """Recognises substances in a message and looks every pair up in the combinations table."""

    def __init__(self, guide: MixingGuide) -> None:
        self.guide = guide
        self.recogniser = Recogniser(guide.lexicon)

    def describe(self) -> str:
        """A one-line count for `peerline validate`."""
        lexicon = self.guide.lexicon
        return (
            f"{len(lexicon.substances)} substances ({len(lexicon.aliases)} names), "
            f"{len(self.guide.combinations)} combinations"
        )

    def advise(self, text: str) -> MixingAdvice | None:
        """None unless the message names two or more known substances taken together."""
        ids = self.recogniser.substances(text)[:MAX_SUBSTANCES]
        if len(ids) < 2 or not about_taking_together(text, self.guide.lexicon.cues):
            return None
        return self.advice_for(ids)

    def advice_for(self, ids: Sequence[str]) -> MixingAdvice:
        """Every pair of these substances (lexicon ids, in the order named), most dangerous first."""
        lexicon = self.guide.lexicon
        substances = tuple(lexicon.substances[i] for i in ids)
        # One drug that slows breathing is enough for the overdose paragraph: "molly and fentanyl" too.
        pairs = [
            PairAdvice(
                a, b, self.guide.combination(a, b), lexicon.depressant(a.id) or lexicon.depressant(b.id)
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
        title = f"{_capitalised(pair_name(pair, locale))}: {label}"
        return f"<b>{escape(title)}</b>\n{escape(pair.combination.note(locale))}"


def pair_name(pair: PairAdvice, locale: str | None) -> str:
    return f"{_name(pair.first, locale)} + {_name(pair.second, locale)}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name(substance: Substance, locale: str | None) -> str:
    return substance.name(locale)


def compose(advisor: MixingAdvisor, advice: MixingAdvice, locale: str | None, say: Say) -> str:
    """The whole reply: intro, each known combination, the ones I can't speak to, then general advice.

    `say(response_id, substances)` renders one of the mixing system responses in the person's language.
    """
    closing = [say("mixing_depressants", "")] if advice.overdose_risk else []
    closing.append(say("mixing_general", ""))
    unknown = _capitalised(", ".join(pair_name(p, locale) for p in advice.unknown))
    middle = [say("mixing_unknown_pair", unknown)] if unknown else []
    if not advice.known:
        return "\n\n".join(middle + closing)
    parts = [say("mixing_specific", "")]
    budget = REPLY_LIMIT - sum(len(p) + 2 for p in parts + middle + closing) - MORE_ALLOWANCE
    left_out: list[str] = []
    for pair in advice.known:
        block = advisor.pair_block(pair, locale)
        if len(block) + 2 <= budget:
            parts.append(block)
            budget -= len(block) + 2
        else:
            left_out.append(pair_name(pair, locale))
    if left_out:
        parts.append(say("mixing_more", ", ".join(left_out)))
    return "\n\n".join(parts + middle + closing)
