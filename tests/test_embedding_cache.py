"""The on-disk embedding cache: reused when the content is unchanged, and bounded as content changes."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.nlu.embedding import CACHE_KEEP_DAYS, CACHE_KEEP_FILES, encode_cached, prune_cache


class CountingEncoder:
    """A stand-in model (the real one is exercised everywhere else): counts what it is asked to embed."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        rows = np.ones((len(texts), 4), dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_unchanged_content_is_read_from_the_cache(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    first = encode_cached(encoder, ["a", "b"], tmp_path)
    again = encode_cached(encoder, ["a", "b"], tmp_path)
    assert encoder.calls == 1
    assert np.array_equal(first, again)


def test_cache_keeps_only_the_most_recently_used_files(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    for n in range(CACHE_KEEP_FILES + 5):
        encode_cached(encoder, [f"content version {n}"], tmp_path)
        stamp = time.time() - 1000 + n  # distinct, increasing use times without waiting
        for path in tmp_path.glob("embeddings-*.npy"):
            if path.stat().st_mtime > stamp:
                os.utime(path, (stamp, stamp))
    assert len(list(tmp_path.glob("embeddings-*.npy"))) == CACHE_KEEP_FILES
    encoder.calls = 0
    encode_cached(encoder, [f"content version {CACHE_KEEP_FILES + 4}"], tmp_path)
    assert encoder.calls == 0  # the newest survived


def test_cache_files_unused_for_a_month_are_deleted(tmp_path: Path) -> None:
    old = tmp_path / "embeddings-old.npy"
    fresh = tmp_path / "embeddings-fresh.npy"
    for path in (old, fresh):
        np.save(path, np.zeros((1, 4), dtype=np.float32))
    month_ago = time.time() - (CACHE_KEEP_DAYS + 1) * 86400
    os.utime(old, (month_ago, month_ago))
    assert prune_cache(tmp_path) == [old]
    assert fresh.exists()
