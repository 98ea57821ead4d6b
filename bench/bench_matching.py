"""Matching latency and start-up time; prints figures, asserts nothing.

    python bench/bench_matching.py [--messages N]

Measures, on one core: loading + indexing the shipped content (cold: no embedding cache; warm: cached),
then per-message latency of `Matcher.match` (median and p99) on the shipped catalogue and on a generated
catalogue of 5,000 examples, with the meaning layer (sentence embeddings, risk bank) and lexical only, and
the process's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bot.brain import Brain
from bot.content.model import Intent, SourceRef
from bot.evaluation import load_cases
from bot.nlu.embedding import shared_encoder
from bot.nlu.matcher import Matcher

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(matcher: Matcher, messages: list[str], rounds: int) -> list[float]:
    for text in messages[:50]:
        matcher.match(text)  # warm caches, as a running bot would be
    out = []
    for _ in range(rounds):
        for text in messages:
            start = time.perf_counter()
            matcher.match(text)
            out.append((time.perf_counter() - start) * 1000)
    return out


def generated_catalogue(brain: Brain, size: int, per_intent: int, seed: int = 7) -> list[Intent]:
    """Intents built from the shipped vocabulary, so message words overlap realistically."""
    rng = random.Random(seed)
    locale = brain.content.locale(None)
    words = sorted({w for i in locale.intents.values() for e in i.examples for w in e.lower().split()})
    intents = [i for i in locale.intents.values() if i.crisis]
    count = sum(len(i.examples) for i in intents)
    n = 0
    while count < size:
        examples = tuple(
            " ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(per_intent)
        )
        intents.append(
            Intent(
                f"generated_{n}",
                f"Generated {n}",
                "fallback",
                "en",
                examples,
                SourceRef("generated", n),
                keywords=(rng.choice(words),),
            )
        )
        count += per_intent
        n += 1
    return intents


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:<44} median {statistics.median(values):6.3f} ms   p99 {percentile(values, 0.99):6.3f} ms"
        f"   max {max(values):6.3f} ms   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cold:
        os.environ["PEERLINE_CACHE_DIR"] = cold
        for label in ("cold, no embedding cache", "warm, embeddings cached"):
            start = time.perf_counter()
            brain = Brain.load(ROOT)
            startup = time.perf_counter() - start
            matcher = brain.matcher(None)
            print(
                f"start-up {label} (load, validate, index, embed both locales): {startup * 1000:.0f} ms "
                f"({matcher.example_count} examples, {len(matcher.ids)} intents in en)"
            )
    messages = [c.text for c in load_cases(ROOT / "tests" / "data" / "dev" / "en.yaml")]
    report("shipped catalogue", latencies(matcher, messages, args.rounds))

    intents = generated_catalogue(brain, 5000, 25)
    locale = brain.content.locale(None)
    for name, encoder in (("with meaning", shared_encoder()), ("lexical only", None)):
        start = time.perf_counter()
        big = Matcher(intents, locale.synonyms, encoder=encoder, look_alikes=locale.look_alikes)
        print(
            f"index build, generated catalogue, {name}: {(time.perf_counter() - start) * 1000:.0f} ms "
            f"({big.example_count} examples, {len(big.ids)} intents)"
        )
        report(f"generated catalogue (5,000 examples), {name}", latencies(big, messages, args.rounds))
        long_text = " ".join(messages) * 3
        report(f"  4,000+ character messages, {name}", latencies(big, [long_text[:4096]] * 20, 2))
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
