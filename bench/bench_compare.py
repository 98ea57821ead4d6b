"""Peerline beside two baselines trained on the same examples, on the dev and held-out test sets.

    pip install -e '.[bench]'          # scikit-learn, for the TF-IDF baseline only
    python bench/bench_compare.py [--sets tests/data/dev tests/data/test]

- **Peerline**: the engine's decision for a first message (`peerline match --json`, `peerline eval`).
- **TF-IDF + logistic regression**: word and character n-grams over every intent's examples (the risk
  bank included), one classifier per locale; below 0.25 probability it is "no match".
- **Embedding, nearest example**: the same sentence-embedding model Peerline uses, the label of the single
  nearest example; below cosine 0.45 it is "no match".

A baseline's predicted crisis or check-in intent is its risk tier, so the figures mean the same for all
three. Prints one table per set and locale; it never fails.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.brain import Brain
from bot.content.model import Locale
from bot.decision import first_message
from bot.engine import Engine
from bot.evaluation import Case, CaseResult, Report, load_cases, summarise
from bot.nlu.embedding import shared_encoder

ROOT = Path(__file__).resolve().parent.parent
Predict = Callable[[str], tuple[str | None, float]]


def training_data(locale: Locale) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for intent in locale.intents.values():
        for example in intent.examples:
            texts.append(example)
            labels.append(intent.id)
    return texts, labels


def tfidf_baseline(locale: Locale) -> Predict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    texts, labels = training_data(locale)
    features = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    model = make_pipeline(features, LogisticRegression(max_iter=2000, C=10.0))
    model.fit(texts, labels)
    classes = list(model.classes_)

    def predict(text: str) -> tuple[str | None, float]:
        probabilities = model.predict_proba([text])[0]
        best = int(np.argmax(probabilities))
        score = float(probabilities[best])
        return (classes[best] if score >= 0.25 else None), score

    return predict


def nearest_baseline(locale: Locale) -> Predict:
    texts, labels = training_data(locale)
    encoder = shared_encoder()
    vectors = encoder.encode(texts)

    def predict(text: str) -> tuple[str | None, float]:
        sims = vectors @ encoder.encode([text])[0]
        best = int(np.argmax(sims))
        score = float(sims[best])
        return (labels[best] if score >= 0.45 else None), score

    return predict


def baseline_result(predict: Predict, case: Case, locale: Locale) -> CaseResult:
    predicted, score = predict(case.text)
    intent = locale.intents.get(predicted or "")
    expected = locale.intents.get(case.expected or "")
    risk = intent.risk if intent else None
    expected_risk = expected.risk if expected else None
    return CaseResult(
        case,
        predicted,
        True,
        risk == "crisis",
        score,
        locale.code,
        expected_risk == "crisis",
        risk,
        expected_risk,
    )


def row(name: str, report: Report, seconds: float) -> str:
    return (
        f"| {name} | {report.accuracy:.1%} | {report.crisis_recall:.1%}"
        f" | {report.crisis_false_positive_rate:.1%}"
        f" | {report.check_in_false_alarm_rate:.1%} | {report.look_alike_crisis_rate:.1%}"
        f" | {report.out_of_scope_rejection:.1%} | {1000 * seconds / max(report.total, 1):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="*", default=["tests/data/dev", "tests/data/test"])
    args = parser.parse_args()
    brain = Brain.load(ROOT)
    engine = Engine(brain)
    baselines: dict[str, dict[str, Predict]] = defaultdict(dict)
    for code, locale in brain.content.locales.items():
        baselines["TF-IDF + logistic regression"][code] = tfidf_baseline(locale)
        baselines["embedding, nearest example"][code] = nearest_baseline(locale)
    for folder in args.sets:
        by_locale: dict[str, list[Case]] = defaultdict(list)
        for path in sorted((ROOT / folder).glob("*.yaml")):
            for case in load_cases(path):
                by_locale[case.locale or brain.content.default_locale].append(case)
        for code, cases in sorted(by_locale.items()):
            locale = brain.content.locale(code)
            print(f"\n### {folder} — {code} ({len(cases)} messages)\n")
            print(
                "| system | top-1 in scope | crisis recall (either tier) | crisis FA | check-in FA"
                " | look-alikes to crisis | out-of-scope rejected | ms/message |"
            )
            print("| --- | --- | --- | --- | --- | --- | --- | --- |")
            start = time.perf_counter()
            results = []
            for case in cases:
                decision = first_message(engine, case.text, code)
                expected = locale.intents.get(case.expected or "")
                expected_risk = expected.risk if expected else None
                results.append(
                    CaseResult(
                        case, decision.intent, decision.confident, decision.crisis, decision.score, code,
                        expected_risk == "crisis", decision.risk, expected_risk,
                    )
                )  # fmt: skip
            print(row("Peerline", summarise(results), time.perf_counter() - start))
            for name, predictors in baselines.items():
                start = time.perf_counter()
                results = [baseline_result(predictors[code], case, locale) for case in cases]
                print(row(name, summarise(results), time.perf_counter() - start))


if __name__ == "__main__":
    main()
