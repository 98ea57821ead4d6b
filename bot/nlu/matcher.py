"""Intent matching: one vectorised rapidfuzz pass over every example, keyword evidence, thresholds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from bot.content.model import Intent
from bot.nlu.crisis import CrisisDetector, CrisisSignal
from bot.nlu.embedding import EMBED_CHARS, SentenceEncoder
from bot.nlu.normalise import Normaliser, basic_normalise
from bot.nlu.risk import CHECK_IN, CRISIS, RiskBank, RiskSettings, RiskSignal
from bot.nlu.semantic import Neighbours, SemanticIndex
from bot.nlu.sentences import Piece, asking_piece, split_pieces
from bot.nlu.speller import Speller

FALLBACK = "fallback"
CONFIRM = "confirm"


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds on a 0-100 scale; between `confirm` and `accept` the bot asks "Did you mean...?"."""

    accept: float = 50.0
    confirm: float = 38.0
    margin: float = 3.0
    crisis_example: float = 80.0
    keyword_bonus: float = 12.0
    context_bonus: float = 3.0
    unknown_word_weight: float = 1.5
    match_chars: int = 280
    # The meaning layer: an intent's score is (1 - w) * lexical + w * semantic, both 0-100. The semantic
    # score maps cosine `semantic_zero` to 0 and `semantic_full` to 100 (nearest example and centroid).
    semantic_weight: float = 0.5
    semantic_zero: float = 0.20
    semantic_full: float = 0.80
    ridge_weight: float = 0.5  # share of the ridge classifier in the semantic score (bot.nlu.semantic)
    ridge_full: float = 0.6  # a ridge score this high counts as 100
    second_need: float = 75.0  # a clause's own semantic score for another topic, to offer it as a button
    risk: RiskSettings = field(default_factory=RiskSettings)


@dataclass(frozen=True)
class MatchResult:
    """What a message means: an intent (or none), how sure we are, and whether it is a crisis."""

    intent: str | None
    score: float
    confident: bool
    crisis: bool
    response: str
    runner_up: tuple[str, float] | None = None
    candidates: tuple[tuple[str, float], ...] = ()
    crisis_reason: str | None = None
    risk: str | None = None  # "crisis", "check_in" or None
    topic: str | None = None  # with a check-in: the everyday intent the message also asked about, if clear
    second: str | None = None  # a long post's second need, offered as a button

    def as_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "score": round(self.score, 2),
            "confident": self.confident,
            "crisis": self.crisis,
            "risk": self.risk,
            "crisis_reason": self.crisis_reason,
            "response": self.response,
            "runner_up": list(self.runner_up) if self.runner_up else None,
            "candidates": [[i, round(s, 2)] for i, s in self.candidates],
        }


@dataclass(frozen=True)
class HeldOutScore:
    """An example scored as a message with itself taken out of the index (leave-one-out)."""

    intent: str
    position: int  # index in the intent's `examples`
    example: str
    own: float
    nearest: str | None  # the best-scoring other intent
    nearest_score: float

    @property
    def margin(self) -> float:
        return self.own - self.nearest_score


@dataclass
class _Keywords:
    words: dict[str, set[int]] = field(default_factory=dict)
    phrases: list[tuple[str, int]] = field(default_factory=list)

    def add(self, keyword: str, intent_index: int) -> None:
        if " " in keyword:
            self.phrases.append((f" {keyword} ", intent_index))
        else:
            self.words.setdefault(keyword, set()).add(intent_index)

    def hits(self, text: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        for token in set(text.split()):
            for index in self.words.get(token, ()):
                counts[index] = counts.get(index, 0) + 1
        padded = f" {text} "
        for phrase, index in self.phrases:
            if phrase in padded:
                counts[index] = counts.get(index, 0) + 1
        return counts


def stem(word: str) -> str:
    """The lightest stemming that helps: "strips" -> "strip", but "pass", "this" and "hiv" stay."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class Matcher:
    """An index over one locale's intents; built once per content load, then read-only.

    An intent's score (0-100) averages three views of the message's content words (stop words
    removed): the closest example by rapidfuzz `token_sort_ratio` (typos, word order), the closest
    example by IDF-weighted word overlap (rare words count more), and the cosine similarity to the
    intent's whole vocabulary (messages that mix words from several examples). Keywords and
    conversation context add a bonus on top.
    """

    def __init__(
        self,
        intents: Iterable[Intent],
        synonyms: Mapping[str, str],
        settings: MatchSettings | None = None,
        stopwords: frozenset[str] = frozenset(),
        encoder: SentenceEncoder | None = None,
        look_alikes: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings or MatchSettings()
        self.normalise = Normaliser(synonyms)
        self.stopwords = stopwords
        self.intents: tuple[Intent, ...] = tuple(intents)
        self.ids: tuple[str, ...] = tuple(i.id for i in self.intents)
        self._index = {intent_id: n for n, intent_id in enumerate(self.ids)}
        self._priorities = np.asarray([i.priority for i in self.intents], dtype=np.float64)
        examples: list[str] = []
        owners: list[int] = []
        positions: list[int] = []
        self._keywords = _Keywords()
        for n, intent in enumerate(self.intents):
            seen: set[str] = set()
            for position, example in enumerate(intent.examples):
                text = self.content_words(self.normalise(example))
                if text and text not in seen:
                    seen.add(text)
                    examples.append(text)
                    owners.append(n)
                    positions.append(position)
            for keyword in intent.keywords:
                normal = " ".join(stem(w) for w in self.normalise(keyword).split())
                if normal:
                    self._keywords.add(normal, n)
        self._examples = examples
        self._positions = positions
        # token_sort_ratio is ratio on sorted words: sorting once here makes each message ~8x cheaper.
        self._sorted_examples = [" ".join(sorted(text.split())) for text in examples]
        self._owners = np.asarray(owners, dtype=np.intp)
        # Examples are grouped by intent, so a per-intent maximum is one reduceat over these starts.
        self._starts = np.flatnonzero(np.r_[True, self._owners[1:] != self._owners[:-1]])
        self._build_word_index()
        vocabulary = set(self._vocab)
        vocabulary.update(token for k in self._keywords.words for token in k.split())
        # Known words are never "corrected": stop words ("estoy" is not a typo of "esto") and keyword phrases.
        vocabulary.update(token for phrase, _ in self._keywords.phrases for token in phrase.split())
        vocabulary.update(self.stopwords)
        self.speller = Speller(vocabulary)
        self.crisis = CrisisDetector(self.intents, self.settings.crisis_example)
        self._known_words = frozenset(vocabulary) | self.crisis.words
        crisis_rows = [n for n, o in enumerate(owners) if self.intents[o].crisis]
        self._crisis_examples = [self._sorted_examples[n] for n in crisis_rows]
        self._crisis_owners = np.asarray([owners[n] for n in crisis_rows], dtype=np.intp)
        # Which crisis examples hold each word, so "shares a word with the message" is one numpy mask.
        crisis_postings: dict[str, list[int]] = {}
        for n, text in enumerate(self._crisis_examples):
            for word in set(text.split()):
                crisis_postings.setdefault(word, []).append(n)
        self._crisis_postings = {w: np.asarray(rows, dtype=np.intp) for w, rows in crisis_postings.items()}
        self.check_in_ids = frozenset(i.id for i in self.intents if i.check_in)
        self.risk_ids = self.crisis.intent_ids | self.check_in_ids
        # Without an encoder (small test matchers, the lexical benchmark) matching is lexical only.
        self.semantic = SemanticIndex(self.intents, encoder, look_alikes) if encoder is not None else None
        self.risk = RiskBank(self.ids, self.crisis.intent_ids, self.check_in_ids, self.settings.risk)

    def _build_word_index(self) -> None:
        """IDF over intents (a word in every intent says nothing), postings, and intent centroids."""
        intent_words: list[set[str]] = [set() for _ in self.ids]
        example_words = [set(text.split()) for text in self._examples]
        for words, owner in zip(example_words, self._owners, strict=True):
            intent_words[owner].update(words)
        document_frequency: dict[str, int] = {}
        for words in intent_words:
            for word in words:
                document_frequency[word] = document_frequency.get(word, 0) + 1
        count = len(self.ids)
        self._idf = {w: math.log((count + 1) / (df + 0.5)) for w, df in document_frequency.items()}
        self._vocab = {word: n for n, word in enumerate(sorted(self._idf))}
        postings: dict[str, list[int]] = {}
        for row, words in enumerate(example_words):
            for word in words:
                postings.setdefault(word, []).append(row)
        self._postings = {w: np.asarray(rows, dtype=np.intp) for w, rows in postings.items()}
        self._example_weight = np.asarray(
            [sum(self._idf[w] for w in words) for words in example_words], dtype=np.float64
        )
        centroids = np.zeros((count, len(self._vocab)), dtype=np.float64)
        for words, owner in zip(example_words, self._owners, strict=True):
            for word in words:
                centroids[owner, self._vocab[word]] += self._idf[word]
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self._centroids = centroids / np.where(norms == 0, 1.0, norms)

    @property
    def example_count(self) -> int:
        return len(self._examples)

    def content_words(self, text: str) -> str:
        """Drop stop words and plural -s; a message of only stop words keeps them ("what can you do")."""
        words = [stem(w) for w in text.split() if w not in self.stopwords]
        return " ".join(words) if words else text

    def prepare(self, text: str) -> tuple[str, str]:
        """The text before and after synonyms and spelling correction."""
        basic = basic_normalise(text, self._known_words)
        return basic, self.speller.correct(self.normalise.apply_synonyms(basic))

    def _per_intent(self, row: np.ndarray) -> np.ndarray:
        """The best example score of each intent (0 for an intent without examples)."""
        best = np.zeros(len(self.ids), dtype=np.float64)
        if len(row):
            best[self._owners[self._starts]] = np.maximum.reduceat(row, self._starts)
        return best

    def intent_scores(
        self, text: str, boost: frozenset[str] = frozenset(), held_out: int | None = None
    ) -> np.ndarray:
        """One score per intent from three views of the content words, plus keyword and context bonuses.

        `held_out` (an example row) scores as if that example were not in the index: used to measure how
        well an intent's examples are separated from other intents' (word weights stay as built).
        """
        scores = np.zeros(len(self.ids), dtype=np.float64)
        query = self.content_words(text[: self.settings.match_chars])
        if not query or not self._examples:
            return scores
        ordered = " ".join(sorted(query.split()))
        fuzzy = process.cdist([ordered], self._sorted_examples, scorer=fuzz.ratio, workers=1)[0]
        words = set(query.split())
        known = [w for w in words if w in self._idf]
        unknown_weight = self.settings.unknown_word_weight * (len(words) - len(known))
        weights = np.asarray([self._idf[w] for w in known], dtype=np.float64)
        overlap = np.zeros(len(self._examples), dtype=np.float64)
        for word, weight in zip(known, weights, strict=True):
            overlap[self._postings[word]] += weight
        message_weight = float(weights.sum()) + unknown_weight
        dice = 200.0 * overlap / (message_weight + self._example_weight + 1e-9)
        if held_out is not None:
            fuzzy[held_out] = dice[held_out] = 0.0
        norm = math.sqrt(float(weights @ weights) + unknown_weight**2)
        if known and norm > 0:
            columns = [self._vocab[w] for w in known]
            cosine = 100.0 * (self._centroids[:, columns] @ weights) / norm
            if held_out is not None:
                owner = int(self._owners[held_out])
                centroid = self._centroid_without(held_out)
                cosine[owner] = 100.0 * sum(centroid.get(w, 0.0) * self._idf[w] for w in known) / norm
        else:
            cosine = np.zeros(len(self.ids), dtype=np.float64)
        scores = (self._per_intent(fuzzy) + self._per_intent(dice) + cosine) / 3
        for index, count in self._keywords.hits(" ".join(stem(w) for w in text.split())).items():
            scores[index] += self.settings.keyword_bonus * min(count, 2) ** 0.5
        for intent_id in boost:
            position = self._index.get(intent_id)
            if position is not None:
                scores[position] += self.settings.context_bonus
        capped: np.ndarray = np.minimum(scores, 100.0)
        return capped

    def _centroid_without(self, row: int) -> dict[str, float]:
        """The normalised vocabulary vector of an example's intent, built without that example."""
        owner = self._owners[row]
        vector: dict[str, float] = {}
        for other in np.flatnonzero(self._owners == owner).tolist():
            if other != row:
                for word in set(self._examples[other].split()):
                    vector[word] = vector.get(word, 0.0) + self._idf[word]
        length = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {w: v / length for w, v in vector.items()}

    def held_out_scores(self) -> list[HeldOutScore]:
        """Every indexed example matched like a message, with itself left out of the index."""
        found = []
        for row, position in enumerate(self._positions):
            owner = int(self._owners[row])
            intent = self.intents[owner]
            example = intent.examples[position]
            scores = self.intent_scores(self.prepare(example)[1], held_out=row)
            own = float(scores[owner])
            scores[owner] = -1.0
            nearest = int(np.argmax(scores)) if len(scores) > 1 else None
            found.append(
                HeldOutScore(
                    intent.id,
                    position,
                    example,
                    own,
                    self.ids[nearest] if nearest is not None else None,
                    float(scores[nearest]) if nearest is not None else 0.0,
                )
            )
        return found

    def crisis_similarity(self, text: str) -> dict[str, float]:
        """How close the message is, word for word, to any crisis example that shares a word with it.

        Letters alone can make unrelated short texts look alike ("novia" and "no viva" score 83).
        """
        query = self.content_words(text[: self.settings.match_chars])
        if not query or not self._crisis_examples:
            return {}
        ordered = " ".join(sorted(query.split()))
        shares = np.zeros(len(self._crisis_examples), dtype=bool)
        for word in set(ordered.split()):
            rows = self._crisis_postings.get(word)
            if rows is not None:
                shares[rows] = True
        if not shares.any():
            return {}
        row = process.cdist([ordered], self._crisis_examples, scorer=fuzz.ratio, workers=1)[0]
        best = np.full(len(self.ids), -1.0)
        np.maximum.at(best, self._crisis_owners[shares], row[shares].astype(np.float64))
        return {self.ids[n]: float(best[n]) for n in np.flatnonzero(best >= 0).tolist()}

    def understand(self, text: str) -> tuple[list[Piece], list[Neighbours]]:
        """The message's pieces and, with the meaning layer, its neighbours: the whole text first."""
        pieces = split_pieces(text[: EMBED_CHARS * 4])
        if self.semantic is None:
            return pieces, []
        texts = [" ".join(text.split())[:EMBED_CHARS] or text[:1]]
        if len(pieces) > 1:
            texts += [p.text for p in pieces]
        return pieces, self.semantic.neighbours(self.semantic.embed(texts))

    def semantic_scores(self, found: Neighbours) -> np.ndarray:
        """0-100 per intent from the nearest example and the intent's centroid."""
        s = self.settings
        cosine = 0.6 * found.nearest + 0.4 * found.centroid
        near = np.clip(100.0 * (cosine - s.semantic_zero) / (s.semantic_full - s.semantic_zero), 0.0, 100.0)
        fitted = np.clip(100.0 * found.fitted / s.ridge_full, 0.0, 100.0)
        return (1.0 - s.ridge_weight) * near + s.ridge_weight * fitted

    def match(self, text: str, boost: frozenset[str] = frozenset(), meaning: bool = True) -> MatchResult:
        """Classify one message; a crisis wins over everything, a check-in over every everyday intent."""
        basic, full = self.prepare(text)
        texts = (basic, full)
        pieces, found = self.understand(text) if meaning else (split_pieces(text[: EMBED_CHARS * 4]), [])
        signal = self.crisis.by_pattern(texts)
        if signal is not None and any(p.negated or p.past for p in pieces):
            # "im not suicidal, just asking", "grieving my friend who overdosed": a pattern counts only in
            # a clause that is neither negated nor told as the past.
            signal = next(
                (
                    s
                    for p in pieces
                    if not (p.negated or p.past) and (s := self.crisis.by_pattern(self.prepare(p.text)))
                ),
                None,
            )
        lexical = self.intent_scores(full, boost)
        scores = lexical
        second: str | None = None
        risk: RiskSignal | None = None
        if found:
            semantic = self.semantic_scores(found[0])
            asking = asking_piece(pieces)
            if asking is not None:
                semantic = np.maximum(semantic, self.semantic_scores(found[1 + asking]))
            w = self.settings.semantic_weight
            scores = (1.0 - w) * lexical + w * semantic
            risk = self.risk.assess(found[0], pieces, found[1:])
        vetoed = self.crisis.vetoed(texts)
        ranked = self._rank(scores, exclude=vetoed)
        if signal is None and ranked and not any(p.negated or p.past for p in pieces):
            lexical_ranked = self._rank(lexical, vetoed)
            crisis_scores = {i: s for i, s in lexical_ranked if i in self.crisis.intent_ids}
            best_other = max((s for i, s in lexical_ranked if i not in self.risk_ids), default=0.0)
            similar = {i: s for i, s in self.crisis_similarity(full).items() if i not in vetoed}
            signal = self.crisis.by_example(texts, similar, crisis_scores, best_other)
        if (
            signal is not None
            and (risk is None or risk.tier != CRISIS)
            and self._reads_as_question(pieces, found)
        ):
            # The words of an emergency, the meaning of a question: ask directly instead of alarming.
            intent = risk.intent if risk else signal.intent
            risk = RiskSignal(CHECK_IN, intent, max(risk.score if risk else 0.0, 0.5), None)
            signal = None
        if signal is not None and risk is not None and risk.intent in self.crisis.intent_ids:
            # The patterns say "emergency"; the meaning layer is better at saying which kind.
            signal = CrisisSignal(risk.intent, signal.reason, signal.score)
        if signal is None and risk is not None and risk.tier == CRISIS:
            signal = CrisisSignal(risk.intent, "meaning", 100.0 * risk.score)
        everyday = [(i, s) for i, s in ranked if i not in self.risk_ids]
        if len(found) > 2 and everyday:
            second = self._second_need(found[1:], everyday[0][0])
        candidates = tuple(everyday[:5])
        if signal is not None:
            return MatchResult(
                signal.intent,
                signal.score,
                True,
                True,
                self.intents[self._index[signal.intent]].response,
                self._runner_up(everyday, signal.intent),
                candidates,
                signal.reason,
                CRISIS,
            )
        top = self._decide(everyday)
        if risk is not None and self.check_in_ids:
            check_in = min(self.check_in_ids)
            topic = top.intent if top.confident else None
            return MatchResult(
                check_in,
                100.0 * risk.score,
                True,
                False,
                self.intents[self._index[check_in]].response,
                top.runner_up,
                candidates,
                "meaning",
                CHECK_IN,
                topic,
            )
        return replace(top, second=second if second != top.intent else None)

    def _second_need(self, clauses: list[Neighbours], main: str) -> str | None:
        """A clause of a long post that clearly asks for another everyday topic ("also, where do i get
        narcan?"): offered as a button under the answer."""
        best, best_score = None, self.settings.second_need
        for found in clauses:
            scores = self.semantic_scores(found)
            for n in np.argsort(-scores)[:1].tolist():
                intent = self.ids[n]
                if intent != main and intent not in self.risk_ids and scores[n] >= best_score:
                    best, best_score = intent, float(scores[n])
        return best

    def _reads_as_question(self, pieces: list[Piece], found: list[Neighbours]) -> bool:
        """The clause a crisis pattern fired in is nearer a look-alike or an everyday question than a crisis.

        Only that clause is judged, so a long message ending in "he isnt breathing" is not softened by
        the paragraphs before it; a hit beyond the clauses embedded is never softened.
        """
        if not found:
            return False
        if len(pieces) == 1:
            return self.risk.looks_safe(found[0])
        for n, piece in enumerate(pieces[: len(found) - 1]):
            if self.crisis.by_pattern(self.prepare(piece.text)) is not None:
                return self.risk.looks_safe(found[1 + n])
        return False

    def _decide(self, ranked: list[tuple[str, float]]) -> MatchResult:
        """The everyday answer: confident, "did you mean", or no match."""
        if not ranked or ranked[0][1] < self.settings.confirm:
            best = ranked[0][1] if ranked else 0.0
            return MatchResult(
                None, best, False, False, FALLBACK, ranked[0] if ranked else None, tuple(ranked[:5])
            )
        top_id, top_score = ranked[0]
        runner = self._runner_up(ranked, top_id)
        margin = top_score - (runner[1] if runner else 0.0)
        confident = top_score >= self.settings.accept and margin >= self.settings.margin
        response = self.intents[self._index[top_id]].response if confident else CONFIRM
        return MatchResult(top_id, top_score, confident, False, response, runner, tuple(ranked[:5]))

    def _rank(self, scores: np.ndarray, exclude: frozenset[str]) -> list[tuple[str, float]]:
        """Intents by score (to 0.1), then priority, then catalogue order."""
        order = np.lexsort((np.arange(len(self.ids)), -self._priorities, -np.round(scores, 1)))
        return [(self.ids[n], float(scores[n])) for n in order.tolist() if self.ids[n] not in exclude]

    @staticmethod
    def _runner_up(ranked: Sequence[tuple[str, float]], top: str) -> tuple[str, float] | None:
        return next(((i, s) for i, s in ranked if i != top), None)
