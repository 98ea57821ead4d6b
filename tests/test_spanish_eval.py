"""The Spanish evaluation sets, run through the real `peerline eval` command on the shipped content.

Floors sit a few points under the measured figures (main set 84.7 %, the 40 more 88.2 % on 2026-12-02; before
the check-in tier and the emergency kinds they were 95.1 % and 94.1 %: a check-in or another kind of
emergency on a message labelled otherwise now counts as a miss),
so a content change that loses ground fails here, while one changed message does not. Crisis figures
are pinned exactly: crisis recall must not drop and false alarms must stay at or under 2 %.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.brain import Brain
from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
MAIN_SET = ROOT / "tests/data/dev/es.yaml"
HELD_OUT = ROOT / "tests/data/dev/es_more.yaml"
ENGLISH_SET = ROOT / "tests/data/dev/en.yaml"


def run_eval(capsys: pytest.CaptureFixture[str], *files: Path) -> dict[str, Any]:
    assert main(["eval", *map(str, files), "--json"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


@pytest.mark.parametrize("path", [MAIN_SET, HELD_OUT])
def test_every_spanish_label_is_a_catalogue_intent(path: Path) -> None:
    known = set(Brain.load().content.locales["es"].intents)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["locale"] == "es"
    labels = {m["intent"] for m in data["messages"] if m.get("intent") is not None}
    assert labels <= known, sorted(labels - known)


def test_spanish_main_set_meets_the_safety_and_accuracy_targets(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_eval(capsys, MAIN_SET)
    spanish = report["locales"]["es"]
    assert spanish["total"] >= 120
    assert spanish["crisis_recall"] == 1.0, [f for f in spanish["failures"] if f["expected"]]
    assert spanish["crisis_false_positive_rate"] <= 0.02
    assert spanish["accuracy"] >= 0.82
    assert spanish["out_of_scope_rejection"] >= 0.80


def test_spanish_held_out_set_keeps_crisis_safe_and_accuracy_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spanish = run_eval(capsys, HELD_OUT)["locales"]["es"]
    assert spanish["crisis_recall"] == 1.0
    assert spanish["crisis_false_positive_rate"] <= 0.02
    assert spanish["accuracy"] >= 0.85


def test_english_and_spanish_together_report_each_locale_on_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = run_eval(capsys, ENGLISH_SET, MAIN_SET)
    assert set(report["locales"]) == {"en", "es"}
    assert report["locales"]["en"]["total"] + report["locales"]["es"]["total"] == report["total"]
    for figures in report["locales"].values():
        assert figures["crisis_recall"] == 1.0
        assert figures["crisis_false_positive_rate"] <= 0.02
