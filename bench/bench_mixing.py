"""Substance recognition latency; prints figures, asserts nothing.

    python bench/bench_mixing.py

Measures `MixingAdvisor.advise` (recognition with typo tolerance, cues, pair lookup) on the evaluation
messages and on a maximum-length (4,096 character) message, median and p99 on one core.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bot.brain import Brain
from bot.evaluation import load_cases

ROOT = Path(__file__).resolve().parents[1]


def timed(advise: object, messages: list[str], rounds: int) -> list[float]:
    assert callable(advise)
    samples: list[float] = []
    for _ in range(rounds):
        for text in messages:
            start = time.perf_counter()
            advise(text)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    brain = Brain.load(ROOT)
    assert brain.mixing is not None
    messages = [case.text for case in load_cases(ROOT / "tests" / "data" / "dev" / "en.yaml")]
    long = ("took xanex with my methadon and some beers then coke " * 80)[:4096]
    for name, batch, rounds in (("eval messages", messages, 5), ("4,096-char message", [long], 50)):
        samples = sorted(timed(brain.mixing.advise, batch, rounds))
        p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))]
        print(f"{name}: n={len(samples)} median {statistics.median(samples):.3f} ms, p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
