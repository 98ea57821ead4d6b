"""Try risk-tier settings on the DEV sets and print what each does to recall and false alarms.

    python scripts/tune_risk.py tests/data/dev/*.yaml --set piece_penalty=0.02,0.04 --set margin=0.02,0.04

Every combination of the values given runs the whole engine (patterns, softening, the other locale) on
every message, as `peerline eval` does; each message is embedded once, so a grid costs seconds per point.
It refuses the held-out sets: tuning on them would make their figures meaningless.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import fields, replace
from pathlib import Path

from bot.brain import Brain
from bot.evaluation import Case, evaluate_brain, load_cases
from bot.nlu.embedding import CachedEncoder, shared_encoder
from bot.nlu.risk import RiskSettings


def _grid(pairs: list[str]) -> list[dict[str, float]]:
    known = {f.name for f in fields(RiskSettings)}
    axes: list[tuple[str, list[float]]] = []
    for pair in pairs:
        name, _, values = pair.partition("=")
        if name not in known:
            raise SystemExit(f"unknown setting {name!r}; RiskSettings has: {', '.join(sorted(known))}")
        axes.append((name, [float(v) for v in values.split(",")]))
    names = [name for name, _ in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=V1,V2")
    args = parser.parse_args(argv)
    if any("test" in path.parent.name for path in args.files):
        print("refused: tests/data/test/ is held out; tune on tests/data/dev/ only", file=sys.stderr)
        return 2
    cases: list[Case] = [case for path in args.files for case in load_cases(path)]
    brain = Brain.load()
    # Every message and clause embedded once for the whole grid.
    remember_all = CachedEncoder(shared_encoder().inner, size=1 << 20)
    for matcher in brain.matchers.values():
        if matcher.semantic is not None:
            matcher.semantic.encoder = remember_all
    base = {code: matcher.risk.settings for code, matcher in brain.matchers.items()}
    print(f"{'setting':<41} {'recall':>6} {'crisis':>6} {'FA':>6} {'ciFA':>6} {'look':>6} {'top-1':>6}")
    for point in _grid(args.set) or [{}]:
        for code, matcher in brain.matchers.items():
            matcher.risk.settings = replace(base[code], **point)
        for code, report in sorted(evaluate_brain(brain, cases).by_locale.items()):
            label = f"{code} " + " ".join(f"{k}={v:g}" for k, v in point.items())
            print(
                f"{label:<41} {report.crisis_recall:6.1%} {report.full_crisis_recall:6.1%} "
                f"{report.crisis_false_positive_rate:6.1%} {report.check_in_false_alarm_rate:6.1%} "
                f"{report.look_alike_crisis_rate:6.1%} {report.accuracy:6.1%}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
