"""NLU evaluation in the spirit of `rasa test nlu`: accuracy, per-intent scores, crisis safety, per locale."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.brain import Brain
from bot.decision import first_message
from bot.engine import Engine
from bot.errors import PeerlineError
from bot.nlu.risk import CHECK_IN, CRISIS

OUT_OF_SCOPE = "(out of scope)"
FALLBACK = "(fallback)"


@dataclass(frozen=True)
class Case:
    """One labelled message; `expected` None means out of scope; `locale` None means the file's default."""

    text: str
    expected: str | None
    locale: str | None = None
    tags: tuple[str, ...] = ()


# Tags of messages that sound like a risk but are not: the full crisis reply on them is a false alarm.
LOOK_ALIKE_TAGS = frozenset({"look_alike", "negation", "hypothetical", "figurative"})


@dataclass(frozen=True)
class CaseResult:
    """How one labelled message was understood."""

    case: Case
    predicted: str | None
    confident: bool
    crisis: bool
    score: float
    locale: str = ""
    expected_crisis: bool = False
    risk: str | None = None  # the tier the engine chose
    expected_risk: str | None = None  # the tier the label stands for

    @property
    def caught(self) -> bool:
        """Any risk tier: a crisis reply or a direct check-in with the crisis line."""
        return self.risk is not None

    @property
    def look_alike(self) -> bool:
        return self.expected_risk is None and not LOOK_ALIKE_TAGS.isdisjoint(self.case.tags)


@dataclass
class IntentScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    """Every figure an admin needs to judge a content change."""

    total: int
    accuracy: float
    confident_accuracy: float
    in_scope: int
    crisis_recall: float
    crisis_cases: int
    crisis_false_positive_rate: float
    non_crisis_cases: int
    out_of_scope_rejection: float
    out_of_scope: int
    full_crisis_recall: float = 1.0  # crisis messages given the crisis reply itself, not only a check-in
    check_in_recall: float = 1.0  # check-in messages caught by either tier
    check_in_cases: int = 0
    check_in_false_alarm_rate: float = 0.0  # messages with no risk that got a check-in
    look_alike_crisis_rate: float = 0.0  # negated/hypothetical look-alikes given the crisis reply
    look_alike_cases: int = 0
    per_intent: dict[str, IntentScore] = field(default_factory=dict)
    confusions: list[tuple[str, str, int, list[str]]] = field(default_factory=list)
    failures: list[CaseResult] = field(default_factory=list)
    results: list[CaseResult] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "confident_accuracy": round(self.confident_accuracy, 4),
            "in_scope": self.in_scope,
            "crisis_recall": round(self.crisis_recall, 4),
            "crisis_cases": self.crisis_cases,
            "crisis_false_positive_rate": round(self.crisis_false_positive_rate, 4),
            "non_crisis_cases": self.non_crisis_cases,
            "out_of_scope_rejection": round(self.out_of_scope_rejection, 4),
            "out_of_scope": self.out_of_scope,
            "full_crisis_recall": round(self.full_crisis_recall, 4),
            "check_in_recall": round(self.check_in_recall, 4),
            "check_in_cases": self.check_in_cases,
            "check_in_false_alarm_rate": round(self.check_in_false_alarm_rate, 4),
            "look_alike_crisis_rate": round(self.look_alike_crisis_rate, 4),
            "look_alike_cases": self.look_alike_cases,
            "per_intent": {
                k: {
                    "precision": round(v.precision, 4),
                    "recall": round(v.recall, 4),
                    "f1": round(v.f1, 4),
                    "support": v.support,
                }
                for k, v in sorted(self.per_intent.items())
            },
            "confusions": [
                {"expected": e, "predicted": p, "count": n, "examples": ex} for e, p, n, ex in self.confusions
            ],
            "failures": [
                {
                    "text": o.case.text,
                    "locale": o.locale,
                    "expected": o.case.expected,
                    "predicted": o.predicted,
                    "score": round(o.score, 2),
                    "crisis": o.crisis,
                    "risk": o.risk,
                    "expected_risk": o.expected_risk,
                }
                for o in self.failures
            ],
        }


@dataclass
class Evaluation:
    """The overall report, one report per locale, and every intent of the evaluated locales."""

    overall: Report
    by_locale: dict[str, Report]
    intents: list[str]

    def as_json(self) -> dict[str, Any]:
        data = self.overall.as_json()
        data["locales"] = {code: report.as_json() for code, report in sorted(self.by_locale.items())}
        return data


def load_cases(path: Path) -> list[Case]:
    """Read `[locale: xx] messages: [{text, intent[, locale]}]`; a missing or null intent is out of scope."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PeerlineError(f"{path}: cannot read evaluation file: {exc}") from exc
    items = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise PeerlineError(f"{path}: expected 'messages:' with a list of {{text, intent}}")
    default = data.get("locale")
    if default is not None and not isinstance(default, str):
        raise PeerlineError(f"{path}: 'locale' must be a language code such as en")
    cases = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise PeerlineError(f"{path}: message {n} needs 'text'")
        intent, locale, tags = item.get("intent"), item.get("locale", default), item.get("tags") or ()
        if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
            raise PeerlineError(f"{path}: message {n}: 'tags' must be a list of words")
        cases.append(
            Case(
                item["text"],
                str(intent) if intent is not None else None,
                str(locale) if locale else None,
                tuple(tags),
            )
        )
    return cases


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _share(results: Sequence[CaseResult], test: Callable[[CaseResult], bool]) -> float:
    """The share of `results` for which `test` holds (0 for none)."""
    return sum(1 for o in results if test(o)) / len(results) if results else 0.0


def classify(engine: Engine, case: Case, locale: str) -> CaseResult:
    """One case through the real engine, as the first message of a conversation in `locale`."""
    decision = first_message(engine, case.text, locale)
    intents = engine.brain.content.locale(locale).intents
    expected = intents.get(case.expected or "")
    expected_risk = expected.risk if expected else None
    return CaseResult(
        case,
        decision.intent,
        decision.confident,
        decision.crisis,
        decision.score,
        locale,
        expected_risk == CRISIS,
        decision.risk,
        expected_risk,
    )


def evaluate_brain(brain: Brain, cases: Sequence[Case], locale: str | None = None) -> Evaluation:
    """Each case in its own locale's session (`locale` overrides every case); overall and per locale."""
    known = brain.content.locales
    engine = Engine(brain)
    results: list[CaseResult] = []
    for n, case in enumerate(cases, 1):
        code = locale or case.locale or brain.content.default_locale
        if code not in known:
            raise PeerlineError(
                f"message {n} ({case.text[:40]!r}) is in locale '{code}', but the content has "
                f"{', '.join(sorted(known))}; fix its 'locale:'"
            )
        results.append(classify(engine, case, code))
    grouped: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        grouped[result.locale].append(result)
    intents = sorted({i for code in grouped for i in known[code].intents})
    return Evaluation(summarise(results), {code: summarise(rs) for code, rs in grouped.items()}, intents)


def summarise(outcomes: list[CaseResult]) -> Report:
    """The figures for a list of results (which may mix locales)."""
    in_scope = [o for o in outcomes if o.case.expected is not None]
    oos = [o for o in outcomes if o.case.expected is None]
    crisis = [o for o in outcomes if o.expected_risk == CRISIS]
    check_ins = [o for o in outcomes if o.expected_risk == CHECK_IN]
    no_risk = [o for o in outcomes if o.expected_risk is None]
    look_alikes = [o for o in no_risk if o.look_alike]
    correct = [o for o in in_scope if o.predicted == o.case.expected]
    per_intent: dict[str, IntentScore] = {}
    labels = {o.case.expected for o in in_scope} | {o.predicted for o in outcomes if o.predicted}
    for label in sorted(x for x in labels if x):
        tp = sum(1 for o in outcomes if o.predicted == label and o.case.expected == label)
        fp = sum(1 for o in outcomes if o.predicted == label and o.case.expected != label)
        fn = sum(1 for o in outcomes if o.case.expected == label and o.predicted != label)
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_intent[label] = IntentScore(p, r, f1, tp + fn)
    pairs: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in outcomes:
        if o.predicted != o.case.expected:
            key = (o.case.expected or OUT_OF_SCOPE, o.predicted or FALLBACK)
            pairs[key] += 1
            if len(examples[key]) < 3:
                examples[key].append(o.case.text)
    return Report(
        total=len(outcomes),
        accuracy=_ratio(len(correct), len(in_scope)),
        confident_accuracy=_ratio(sum(1 for o in correct if o.confident), len(in_scope)),
        in_scope=len(in_scope),
        crisis_recall=_ratio(sum(1 for o in crisis if o.caught), len(crisis)),
        crisis_cases=len(crisis),
        crisis_false_positive_rate=_share(no_risk, lambda o: o.risk == CRISIS),
        non_crisis_cases=len(no_risk),
        out_of_scope_rejection=_ratio(sum(1 for o in oos if o.predicted is None), len(oos)),
        out_of_scope=len(oos),
        full_crisis_recall=_ratio(sum(1 for o in crisis if o.risk == CRISIS), len(crisis)),
        check_in_recall=_ratio(sum(1 for o in check_ins if o.caught), len(check_ins)),
        check_in_cases=len(check_ins),
        check_in_false_alarm_rate=_share(no_risk, lambda o: o.risk == CHECK_IN),
        look_alike_crisis_rate=_share(look_alikes, lambda o: o.risk == CRISIS),
        look_alike_cases=len(look_alikes),
        per_intent=per_intent,
        confusions=[(e, p, n, examples[(e, p)]) for (e, p), n in pairs.most_common(10)],
        failures=[
            o
            for o in outcomes
            if o.predicted != o.case.expected
            or (o.expected_risk is not None) != o.caught
            or (o.look_alike and o.crisis)
        ],
        results=outcomes,
    )


def confusion_counts(report: Report, intents: Sequence[str]) -> tuple[list[str], list[str], list[list[int]]]:
    """Rows (expected, plus out of scope) by columns (predicted, plus fallback), counting messages."""
    rows = [*intents, OUT_OF_SCOPE]
    columns = [*intents, FALLBACK]
    extra = sorted({o.predicted for o in report.results if o.predicted and o.predicted not in intents})
    columns[-1:-1] = extra
    extra_rows = sorted({o.case.expected for o in report.results if o.case.expected} - set(intents))
    rows[-1:-1] = extra_rows
    row_of = {name: n for n, name in enumerate(rows)}
    column_of = {name: n for n, name in enumerate(columns)}
    counts = [[0] * len(columns) for _ in rows]
    for o in report.results:
        counts[row_of[o.case.expected or OUT_OF_SCOPE]][column_of[o.predicted or FALLBACK]] += 1
    return rows, columns, counts


def format_report(report: Report) -> str:
    """A plain-text report for the terminal."""
    lines = [
        f"messages: {report.total} ({report.in_scope} in scope, {report.out_of_scope} out of scope)",
        f"top-1 accuracy (in scope):     {report.accuracy:.1%}",
        f"  answered without asking:     {report.confident_accuracy:.1%}",
        f"crisis recall (either tier):   {report.crisis_recall:.1%} of {report.crisis_cases}",
        f"  given the crisis reply:      {report.full_crisis_recall:.1%}",
        f"check-in recall:               {report.check_in_recall:.1%} of {report.check_in_cases}",
        f"crisis false-alarm rate:       {report.crisis_false_positive_rate:.1%}"
        f" of {report.non_crisis_cases} without risk",
        f"check-in false-alarm rate:     {report.check_in_false_alarm_rate:.1%}",
        f"look-alikes given crisis:      {report.look_alike_crisis_rate:.1%} of {report.look_alike_cases}",
        f"out-of-scope rejection:        {report.out_of_scope_rejection:.1%} of {report.out_of_scope}",
        "",
        f"{'intent':<22} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}",
    ]
    for name, s in sorted(report.per_intent.items()):
        lines.append(f"{name:<22} {s.precision:>9.2f} {s.recall:>7.2f} {s.f1:>6.2f} {s.support:>4}")
    if report.confusions:
        lines += ["", "most confused (expected -> predicted):"]
        for expected, predicted, count, texts in report.confusions:
            lines.append(f"  {expected} -> {predicted}: {count}  e.g. {texts[0]!r}")
    if report.failures:
        lines += ["", f"failed messages ({len(report.failures)}):"]
        for o in report.failures:
            flag = f" [{o.risk}]" if o.risk else ""
            where = f"[{o.locale}] " if o.locale else ""
            lines.append(
                f"  {where}{o.case.text!r}: expected {o.case.expected}, got {o.predicted}"
                f" ({o.score:.0f}){flag}"
            )
    return "\n".join(lines)


def format_evaluation(evaluation: Evaluation) -> str:
    """The overall report, then one summary line per locale when there are several."""
    text = format_report(evaluation.overall)
    if len(evaluation.by_locale) < 2:
        return text
    lines = [
        "",
        "per locale:",
        f"  {'locale':<7} {'n':>5} {'accuracy':>9} {'crisis recall':>14} {'false alarm':>12}"
        f" {'check-in FA':>12} {'oos reject':>11}",
    ]
    for code, r in sorted(evaluation.by_locale.items()):
        lines.append(
            f"  {code:<7} {r.total:>5} {r.accuracy:>9.1%} {r.crisis_recall:>14.1%}"
            f" {r.crisis_false_positive_rate:>12.1%} {r.check_in_false_alarm_rate:>12.1%}"
            f" {r.out_of_scope_rejection:>11.1%}"
        )
    return text + "\n" + "\n".join(lines)


def below_minimums(report: Report, min_accuracy: float | None, min_crisis_recall: float | None) -> list[str]:
    """One line per minimum the report falls short of, naming the option."""
    failed = []
    if min_accuracy is not None and report.accuracy < min_accuracy:
        failed.append(f"top-1 accuracy {report.accuracy:.3f} is under --min-accuracy {min_accuracy}")
    if min_crisis_recall is not None and report.crisis_recall < min_crisis_recall:
        failed.append(
            f"crisis recall {report.crisis_recall:.3f} is under --min-crisis-recall {min_crisis_recall}"
        )
    return failed
