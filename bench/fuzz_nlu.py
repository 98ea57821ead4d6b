"""Fuzz the normaliser, matcher and engine: no exception, results in range, every reply valid Telegram HTML
under 4,096 characters; prints counts and time.

    python bench/fuzz_nlu.py [--inputs 100000] [--seed 1]

Inputs mix random Unicode (controls, surrogate-free planes, RTL, emoji), Telegram-HTML-like fragments,
shipped example phrasings with noise spliced in, and long strings up to 4,096 characters. Every input goes
through `basic_normalise`, the full `Normaliser` and `Matcher.match` of every locale, then through
`Engine.handle` as the next message of one of 50 ongoing conversations (so pending questions, switched
languages and place questions are exercised too), and every reply is checked.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.brain import Brain
from bot.content.html import check_html
from bot.engine import Engine
from bot.events import TextMessage
from bot.nlu.normalise import basic_normalise
from bot.session import Session

TELEGRAM_MAX_CHARS = 4096
CONVERSATIONS = 50

PIECES = ["<b>", "</i>", "&amp;", "&", "<", ">", "\u202e", "\u200f", "مرحبا", "שלום", "🙃", "\x00", "\x07",
          "\r\n", "\t", "\ufeff", "\uff2e\uff21\uff32\uff23\uff21\uff2e", "/start", "{x}", "%s", "\u2019",
          "ß", "İ", "\ufb01", "\u0301", "\U0001f468\u200d\U0001f469\u200d\U0001f467"]  # fmt: skip
PLANES = ((0, 0x7F), (0x80, 0xD7FF), (0xE000, 0x10FFFF))  # no surrogates: Telegram text is valid UTF-8


def random_text(rng: random.Random, examples: list[str]) -> str:
    kind = rng.random()
    if kind < 0.3:
        return "".join(chr(rng.randint(*rng.choice(PLANES))) for _ in range(rng.randint(0, 80)))
    if kind < 0.55:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))
    if kind < 0.95:
        words = rng.choice(examples).split()
        for _ in range(rng.randint(0, 4)):
            words.insert(rng.randint(0, len(words)), rng.choice(PIECES))
        return " ".join(words)
    return (rng.choice(examples) + " " + rng.choice(PIECES)) * rng.randint(1, 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    brain = Brain.load()
    rng = random.Random(args.seed)
    matchers = {code: brain.matcher(code) for code in brain.content.locales}
    examples = [
        e for code in matchers for i in brain.content.locale(code).intents.values() for e in i.examples
    ]
    engine = Engine(brain)
    sessions = [Session(locale=rng.choice(sorted(matchers))) for _ in range(CONVERSATIONS)]
    outcomes: Counter[str] = Counter()
    failures: list[tuple[str, str]] = []
    replies = 0
    longest = 0
    started = time.perf_counter()
    for _ in range(args.inputs):
        text = random_text(rng, examples)[:4096]
        longest = max(longest, len(text))
        try:
            basic_normalise(text)
            for code, matcher in matchers.items():
                result = matcher.match(text)
                assert 0.0 <= result.score <= 100.0, result.score
                known = brain.content.locale(code).intents
                assert result.intent is None or result.intent in known, result.intent
                outcomes["crisis" if result.crisis else "intent" if result.intent else "fallback"] += 1
            person = rng.randrange(CONVERSATIONS)
            outcome = engine.handle(TextMessage(text), sessions[person])
            sessions[person] = outcome.session or Session()
            for reply in outcome.replies:
                replies += 1
                assert len(reply.text) <= TELEGRAM_MAX_CHARS, len(reply.text)
                assert check_html(reply.text) == [], check_html(reply.text)
        except Exception as exc:  # counting every failure is the point
            failures.append((type(exc).__name__, repr(text[:80])))
    elapsed = time.perf_counter() - started
    print(f"{args.inputs:,} inputs (longest {longest:,} characters), {len(matchers)} locales each")
    print(f"time: {elapsed:.1f} s ({elapsed / args.inputs * 1000:.2f} ms per input)")
    print(f"results: {dict(outcomes)}")
    print(
        f"engine replies checked (valid Telegram HTML, at most {TELEGRAM_MAX_CHARS} characters): {replies:,}"
    )
    print(f"exceptions: {len(failures)}")
    for name, sample in failures[:10]:
        print(f"  {name}: {sample}")


if __name__ == "__main__":
    main()
