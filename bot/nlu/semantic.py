"""The meaning layer: every example embedded once, messages scored by their nearest examples per intent.

It sits beside the lexical matcher: rapidfuzz catches typos and exact wording, this catches the same need
said in other words ("honestly whats the point anymore" is near "nothing is worth it").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.content.model import Intent
from bot.nlu.embedding import SentenceEncoder, encode_cached

# Label of look-alike statements: near a risk statement in words, but not a risk.
LOOK_ALIKE = -1


@dataclass(frozen=True)
class Neighbours:
    """For one text: per intent, the best similarity to its examples and to its centroid; look-alikes."""

    nearest: np.ndarray  # (intents,) best cosine to any example of each intent
    centroid: np.ndarray  # (intents,) cosine to each intent's mean example
    top_mean: np.ndarray  # (intents,) mean of the best three, steadier than one lucky example
    look_alike: float  # nearness to the look-alikes, measured as for a risk intent (0 when there are none)
    fitted: np.ndarray  # (intents,) a ridge classifier's score, about 0 (no) to 1 (yes)
    fitted_look_alike: float = 0.0  # the same classifier's score for "a look-alike"


class SemanticIndex:
    """Example vectors of one locale's intents (plus look-alikes), built at content load, read-only after."""

    def __init__(
        self,
        intents: Sequence[Intent],
        encoder: SentenceEncoder,
        look_alikes: Sequence[str] = (),
        cache: Path | None = None,
    ) -> None:
        self.encoder = encoder
        self.ids = tuple(i.id for i in intents)
        texts: list[str] = []
        owners: list[int] = []
        for n, intent in enumerate(intents):
            for example in dict.fromkeys(intent.examples):
                texts.append(example)
                owners.append(n)
        for text in dict.fromkeys(look_alikes):
            texts.append(text)
            owners.append(LOOK_ALIKE)
        vectors = encode_cached(encoder, texts, cache) if texts else np.zeros((0, 512), dtype=np.float32)
        self._owners = np.asarray(owners, dtype=np.intp)
        self._look_rows = np.flatnonzero(self._owners == LOOK_ALIKE)
        intent_rows = np.flatnonzero(self._owners != LOOK_ALIKE)
        self._intent_vectors = vectors[intent_rows]
        self._intent_owners = self._owners[intent_rows]
        self._look_vectors = vectors[self._look_rows]
        # Rows grouped by intent, so per-intent maxima are one reduceat.
        order = np.argsort(self._intent_owners, kind="stable")
        self._intent_vectors = self._intent_vectors[order]
        self._intent_owners = self._intent_owners[order]
        present = self._intent_owners
        self._starts = np.flatnonzero(np.r_[True, present[1:] != present[:-1]]) if len(present) else present
        centroids = np.zeros((len(self.ids), vectors.shape[1] if len(vectors) else 512), dtype=np.float32)
        for n in range(len(self.ids)):
            rows = self._intent_vectors[self._intent_owners == n]
            if len(rows):
                mean = rows.mean(axis=0)
                centroids[n] = mean / (np.linalg.norm(mean) or 1.0)
        self._centroids = centroids
        # The look-alikes are one more class: the classifier learns "about overdose, but a question" as
        # well as "about overdose, happening now".
        self._ridge = _ridge_weights(
            np.concatenate([self._intent_vectors, self._look_vectors]),
            np.r_[self._intent_owners, np.full(len(self._look_rows), len(self.ids), dtype=np.intp)],
            len(self.ids) + 1,
        )
        # Each intent's rows as one padded block (a sentinel column past the end), so the mean of its three
        # nearest examples is one vectorised partition for all intents at once.
        sizes = np.diff(np.r_[self._starts, len(self._intent_owners)]).astype(np.intp)
        self._group_owner = self._intent_owners[self._starts] if len(self._starts) else self._starts
        width = int(sizes.max()) if len(sizes) else 0
        self._gather = np.full((len(sizes), width), len(self._intent_owners), dtype=np.intp)
        for group, (start, size) in enumerate(zip(self._starts.tolist(), sizes.tolist(), strict=True)):
            self._gather[group, :size] = np.arange(start, start + size)
        self._top_k = np.minimum(3, sizes)

    def _top_means(self, sims: np.ndarray) -> np.ndarray:
        """The mean of each intent's three nearest examples, for every row of `sims`."""
        padded = np.concatenate([sims, np.full((len(sims), 1), -np.inf, dtype=sims.dtype)], axis=1)
        return _top_k_means(padded[:, self._gather], self._top_k)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts))

    def neighbours(self, vectors: np.ndarray) -> list[Neighbours]:
        """Scores for each row of `vectors` (already embedded, L2-normalised)."""
        if not len(vectors):
            return []
        sims = vectors @ self._intent_vectors.T if len(self._intent_owners) else np.zeros((len(vectors), 0))
        looks = vectors @ self._look_vectors.T if len(self._look_rows) else np.zeros((len(vectors), 0))
        centroid = vectors @ self._centroids.T
        fitted = vectors @ self._ridge
        nearest = np.zeros((len(vectors), len(self.ids)), dtype=np.float64)
        top_mean = np.zeros((len(vectors), len(self.ids)), dtype=np.float64)
        if len(self._intent_owners):
            nearest[:, self._group_owner] = np.maximum.reduceat(sims, self._starts, axis=1)
            top_mean[:, self._group_owner] = self._top_means(sims)
        found = []
        for n, (look_row, centre, fit) in enumerate(zip(looks, centroid, fitted, strict=True)):
            found.append(
                Neighbours(
                    nearest[n],
                    np.asarray(centre, dtype=np.float64),
                    top_mean[n],
                    _near_like_a_bank(look_row),
                    np.asarray(fit[:-1], dtype=np.float64),
                    float(fit[-1]),
                )
            )
        return found


def _top_k_means(padded: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row and group of `padded` (rows x groups x width, -inf padding): the mean of the k largest."""
    width = padded.shape[-1]
    best = np.partition(padded, width - 3, axis=-1)[..., -3:] if width > 3 else padded
    best = -np.sort(-best, axis=-1)
    sums = np.cumsum(np.where(np.isfinite(best), best, 0.0), axis=-1)
    picked = np.take_along_axis(sums, np.broadcast_to((k - 1)[None, :, None], (*sums.shape[:2], 1)), -1)
    return np.asarray(picked[..., 0] / k[None, :], dtype=np.float64)


def _near_like_a_bank(row: np.ndarray) -> float:
    """Halfway between the nearest and the mean of the three nearest: the measure the risk banks get, so a
    single look-alike cannot outweigh several close crisis statements."""
    if not len(row):
        return 0.0
    k = min(3, len(row))
    return float(0.5 * row.max() + 0.5 * np.partition(row, len(row) - k)[-k:].mean())


RIDGE_PENALTY = 1.0


def _ridge_weights(vectors: np.ndarray, owners: np.ndarray, count: int) -> np.ndarray:
    """A one-vs-rest ridge classifier in closed form: one 512x512 solve at content load, no training loop.

    Each intent's examples weigh the same in total, so an intent with 200 examples does not drown one
    with 15. On the dev sets it ranks the right intent first more often than the nearest example does.
    """
    dims = vectors.shape[1] if len(vectors) else 512
    if not len(vectors):
        return np.zeros((dims, count), dtype=np.float32)
    x = vectors.astype(np.float64)
    per_intent = np.bincount(owners, minlength=count).astype(np.float64)
    weight = (1.0 / np.maximum(per_intent[owners], 1.0))[:, None]
    weight *= len(owners) / weight.sum()
    targets = np.zeros((len(owners), count), dtype=np.float64)
    targets[np.arange(len(owners)), owners] = 1.0
    gram = x.T @ (x * weight) + RIDGE_PENALTY * np.eye(dims)
    return np.linalg.solve(gram, x.T @ (targets * weight)).astype(np.float32)
