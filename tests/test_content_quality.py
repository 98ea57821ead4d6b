"""`peerline validate --strict` findings and `peerline coverage` margins, on crafted content."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.cli import main
from bot.content.checks import quality_findings
from bot.content.loader import load_content
from bot.content.model import frozen_map
from bot.nlu.matcher import Matcher
from bot.nlu.separation import intent_separation
from tests.minimal_content import write_minimal_content


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Minimal content plus two planted problems: a naloxone example about overdose signs, and a
    bot_help example that is nearly talk_to_human's."""
    root = write_minimal_content(tmp_path / "content")
    path = root / "intents/en/main.yml"
    text = path.read_text()
    text = text.replace("    patterns: ['\\\\bnot breathing\\\\b']\n", "    patterns: ['not breathing']\n")
    text = text.replace(
        "      - how do i use narcan\n",
        "      - how do i use narcan\n"
        "      - where do i get narcan\n"
        "      - how do i know someone is overdosing on it\n",
    )
    text = text.replace(
        "      - what can you do\n", "      - what can you do\n      - can i talk to a real person pls\n"
    )
    path.write_text(text)
    return root


def findings(root: Path) -> list[str]:
    return [str(f) for f in quality_findings(load_content(root))]


def line_of(root: Path, text: str) -> int:
    lines = (root / "intents/en/main.yml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == f"- {text}")


def test_example_closer_to_another_intent_is_reported_with_both_scores(tree: Path) -> None:
    line = line_of(tree, "how do i know someone is overdosing on it")
    [finding] = [
        f for f in findings(tree) if "'how do i know someone is overdosing on it' of 'naloxone' matches" in f
    ]
    assert finding.startswith(f"intents/en/main.yml:{line}: warning:")
    scores = re.search(r"overdose_signs: ([\d.]+), naloxone: ([\d.]+)", finding)
    assert scores and float(scores.group(1)) > float(scores.group(2))


def test_held_out_scores_equal_a_matcher_built_without_the_example(tree: Path) -> None:
    # "where do i get narcan" only has words other naloxone examples share, so word weights don't move.
    content = load_content(tree)
    locale = content.locales["en"]
    matcher = Brain.build(content).matcher("en")
    held = next(s for s in matcher.held_out_scores() if s.example == "where do i get narcan")
    intents = [
        replace(i, examples=tuple(e for e in i.examples if e != held.example)) if i.id == "naloxone" else i
        for i in locale.intents.values()
    ]
    rebuilt = Matcher(intents, locale.synonyms, None, locale.stopwords)
    scores = dict(zip(rebuilt.ids, rebuilt.intent_scores(rebuilt.prepare(held.example)[1]), strict=True))
    assert held.own == pytest.approx(scores.pop("naloxone"))
    nearest = max(scores, key=lambda i: scores[i])
    assert (held.nearest, held.nearest_score) == (nearest, pytest.approx(scores[nearest]))


def test_near_duplicate_examples_across_intents_are_reported(tree: Path) -> None:
    line = line_of(tree, "can i talk to a real person")
    [finding] = [f for f in findings(tree) if "nearly the same" in f and "bot_help" in f]
    assert finding.startswith(f"intents/en/main.yml:{line}: warning: example 'can i talk to a real person'")
    assert f"main.yml:{line_of(tree, 'can i talk to a real person pls')})" in finding


def test_follow_up_to_itself_few_examples_and_long_response_are_reported(tree: Path) -> None:
    path = tree / "intents/en/main.yml"
    path.write_text(path.read_text().replace("intent: overdose_signs}", "intent: naloxone}"))
    responses = tree / "responses/en/all.yml"
    responses.write_text(responses.read_text().replace("'privacy one.", "'" + "word " * 190 + "privacy one."))
    found = findings(tree)
    assert any("intent 'naloxone' has a follow-up back to itself" in f for f in found)
    assert any("intent 'privacy' has 1 examples (fix: write at least 12" in f for f in found)
    [long] = [f for f in found if "response 'privacy' has a variant of" in f]
    size = re.search(r"variant of (\d+) characters", long)
    assert size and int(size.group(1)) > 900 and "keep it under 900" in long


def test_placeholders_nobody_fills_are_reported(tree: Path) -> None:
    content = load_content(tree)
    found = [str(f) for f in quality_findings(content)]
    # The minimal responses all say {suggestion}; only 'confirm' gets one from the engine.
    assert any("response 'naloxone' uses {suggestion}, which is only filled in confirm" in f for f in found)
    assert not any("response 'confirm' uses {suggestion}" in f for f in found)
    uk = content.regions["uk"]
    values = {k: v for k, v in uk.values.items() if k != "crisis_line"}
    gap = replace(
        content, regions=frozen_map({**content.regions, "uk": replace(uk, values=frozen_map(values))})
    )
    found = [str(f) for f in quality_findings(gap)]
    assert any("response 'naloxone' uses {crisis_line}, which region(s) uk do not define" in f for f in found)


def test_validate_strict_prints_findings_and_fails(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--content", str(tree), "validate", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "matches 'overdose_signs' better" in out and "nearly the same" in out
    assert re.search(r"; \d+ finding\(s\)", out)


def test_coverage_lists_intents_worst_separated_first(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = intent_separation(Brain.load(tree).matcher("en"))
    medians = [r.median_margin for r in rows]
    assert medians == sorted(medians)
    by_id = {r.intent: r for r in rows}
    naloxone = by_id["naloxone"]
    assert (naloxone.examples, naloxone.at_risk, naloxone.nearest) == (4, 1, "overdose_signs")
    assert naloxone.min_margin < 0 and naloxone.worst_example == "how do i know someone is overdosing on it"
    # "my friend is not breathing" is caught by the crisis pattern, so it is counted apart.
    assert (by_id["crisis_overdose"].examples, by_id["crisis_overdose"].by_pattern) == (2, 1)
    assert main(["--content", str(tree), "coverage", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["intent"] for r in data["en"]] == [r.intent for r in rows]
    assert main(["--content", str(tree), "coverage", "--locale", "xx"]) == 2
    assert "unknown locale 'xx'" in capsys.readouterr().err
