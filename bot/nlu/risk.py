"""Risk in three tiers, by meaning: close to a crisis statement, close to a check-in statement, or neither.

Every crisis and check-in intent's examples form a bank of statements; each sentence of a message (and the
whole message) is compared with the bank in the sentence-embedding space. A statement only counts when it
is nearer than every ordinary intent's examples and every look-alike ("im not suicidal, just asking").
The precise crisis patterns stay as a floor in `bot.nlu.crisis`; this layer catches what they never knew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.nlu.semantic import Neighbours
from bot.nlu.sentences import Piece

CRISIS = "crisis"
CHECK_IN = "check_in"


@dataclass(frozen=True)
class RiskSettings:
    """Cosine thresholds in the embedding space (USE multilingual: related sentences score 0.5-0.8)."""

    crisis: float = 0.60  # a crisis statement this near: the crisis reply
    check_in: float = 0.52  # a crisis or check-in statement this near: ask directly
    margin: float = 0.02  # ... and nearer than any ordinary intent or look-alike by this much
    # A statement only moderately near, but far nearer than anything else: possible risk, ask directly.
    check_in_floor: float = 0.45
    clear_margin: float = 0.09
    # The ridge classifier's lead of its best risk intent over its best everyday intent (bot.nlu.semantic):
    # below `ridge_crisis` a crisis by meaning is only a check-in, below `ridge_check_in` it is nothing.
    # USE embeddings follow the topic ("i took my methadone this morning" sits near "take all my methadone
    # tonight"); the classifier,
    # trained against every everyday example, follows the intent.
    ridge_crisis: float = -0.2
    ridge_check_in: float = -0.4
    # The classifier this sure of a risk intent (look-alikes are one of its classes): a moderate nearness
    # is enough to ask, even when a look-alike is as near ("im fadin out, did to much").
    vote_check_in: float = 0.2
    # When a check-in statement is this much nearer than the nearest crisis one, ask instead of alarming.
    prefer_check_in: float = 0.05
    terse_words: int = 4
    # A single clause of a long post must be a little nearer than a whole message.
    piece_penalty: float = 0.02
    # A crisis pattern in a message this much nearer a look-alike or an everyday question: check in instead.
    soften: float = 0.08


@dataclass(frozen=True)
class RiskSignal:
    """Why a message was put in a risk tier: which bank intent, how near, and in which piece."""

    tier: str  # CRISIS or CHECK_IN
    intent: str
    score: float
    piece: int | None  # None: the whole message


class RiskBank:
    """Reads `Neighbours` for the risk intents of one locale's index."""

    def __init__(
        self,
        ids: Sequence[str],
        crisis_ids: frozenset[str],
        check_in_ids: frozenset[str],
        settings: RiskSettings | None = None,
    ) -> None:
        self.settings = settings or RiskSettings()
        self._crisis = np.asarray([i in crisis_ids for i in ids], dtype=bool)
        self._check_in = np.asarray([i in check_in_ids for i in ids], dtype=bool)
        self._ordinary = ~(self._crisis | self._check_in)
        self._ids = tuple(ids)
        # "tramadol with my zoloft" reads like pills; "i have a gun" like means: ask, do not alarm.
        self._terse_capped = frozenset({"crisis_suicide", "crisis_means", "crisis_pills"})

    def _nearness(self, found: Neighbours) -> np.ndarray:
        """Per intent: halfway between the nearest example and the mean of the three nearest."""
        return np.asarray(0.5 * found.nearest + 0.5 * found.top_mean, dtype=np.float64)

    def looks_safe(self, found: Neighbours) -> bool:
        """Nearer to a look-alike or an everyday question than to any crisis statement.

        Used to soften a crisis *pattern* to a check-in: "why do people snore when theyre overdosing"
        says the words of an emergency but means a question.
        """
        near = self._nearness(found)
        crisis = float(near[self._crisis].max()) if self._crisis.any() else 0.0
        ordinary = float(near[self._ordinary].max()) if self._ordinary.any() else 0.0
        return max(found.look_alike, ordinary) - crisis >= self.settings.soften

    def judge(self, found: Neighbours, piece: Piece | None, index: int | None) -> RiskSignal | None:
        """The tier one text (a piece, or the whole message) reaches on its own."""
        if piece is not None and (piece.negated or piece.hypothetical):
            return None
        s = self.settings
        near = self._nearness(found)
        penalty = s.piece_penalty if index is not None else 0.0
        contrast = max(float(near[self._ordinary].max()) if self._ordinary.any() else 0.0, found.look_alike)
        risky = self._crisis | self._check_in
        # Four words or fewer about suicide, means or pills carry too little meaning for the crisis
        # script on their own: a check-in at most (the patterns still catch "kms", "i want to die").
        terse = piece is not None and len(piece.text.split()) <= s.terse_words
        vote = float(found.fitted[risky].max()) - max(
            float(found.fitted[self._ordinary].max(initial=0.0)), found.fitted_look_alike
        )
        if vote < s.ridge_check_in:
            return None
        crisis_near = float(near[self._crisis].max()) if self._crisis.any() else 0.0
        check_near = float(near[self._check_in].max()) if self._check_in.any() else 0.0
        may_alarm = vote >= s.ridge_crisis and check_near - crisis_near < s.prefer_check_in
        best: RiskSignal | None = None
        for mask, tier in ((self._crisis, CRISIS), (self._check_in, CHECK_IN)):
            if not mask.any():
                continue
            scores = np.where(mask, near, -1.0)
            n = int(np.argmax(scores))
            score = float(scores[n]) - penalty
            lead = score - contrast
            capped = (piece is not None and piece.past) or (terse and self._ids[n] in self._terse_capped)
            if tier == CRISIS and may_alarm and score >= s.crisis and lead >= s.margin and not capped:
                reached = CRISIS
            elif (
                (score >= s.check_in and lead >= s.margin)
                # The classifier sure of a risk though a look-alike is as near: ask.
                or (vote >= s.vote_check_in and score >= s.check_in_floor)
                or (
                    # A whole message only: one clause of a long post is too short to trust a moderate match.
                    index is None and score >= s.check_in_floor and lead >= s.clear_margin
                )
            ):
                reached = CHECK_IN
            else:
                continue
            signal = RiskSignal(reached, self._ids[n], score, index)
            if best is None or _rank(signal) > _rank(best):
                best = signal
        return best

    def assess(
        self, whole: Neighbours, pieces: Sequence[Piece], per_piece: Sequence[Neighbours]
    ) -> RiskSignal | None:
        """The highest tier any clause or the whole message reaches (crisis over check-in, then nearness)."""
        # The whole message is told as the past when any clause is ("6 months ago"): a check-in at most.
        whole_piece = pieces[0] if len(pieces) == 1 else Piece("", False, False, any(p.past for p in pieces))
        # One negated or hypothetical clause makes the whole message unreliable: then only the other
        # clauses speak ("im not suicidal, just asking about strips" is not a risk; "..., but i took
        # everything" still is).
        best = self.judge(whole, whole_piece, None) if not any_scoped(pieces) else None
        if len(pieces) > 1:
            for n, (piece, found) in enumerate(zip(pieces, per_piece, strict=True)):
                signal = self.judge(found, piece, n)
                if signal is not None and (best is None or _rank(signal) > _rank(best)):
                    best = signal
        return best


def _rank(signal: RiskSignal) -> tuple[int, float]:
    return (2 if signal.tier == CRISIS else 1, signal.score)


def any_scoped(pieces: Sequence[Piece]) -> bool:
    """Some clause is negated or hypothetical."""
    return any(p.negated or p.hypothetical for p in pieces)
