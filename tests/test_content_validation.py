"""Validation points at the exact file and line, and says what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.checks import dialable_numbers, quality_findings
from bot.content.loader import load_content
from bot.errors import ContentError
from tests.admin_content import write_two_locale_content
from tests.minimal_content import write_minimal_content


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_minimal_content(tmp_path)


def line_of(tree: Path, path: str, needle: str) -> int:
    lines = (tree / path).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def problems_after(tree: Path, path: str, old: str, new: str) -> list[str]:
    target = tree / path
    text = target.read_text()
    assert old in text, f"test setup: {old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))
    with pytest.raises(ContentError) as caught:
        load_content(tree)
    return [str(p) for p in caught.value.problems if p.severity == "error"]


def test_minimal_content_loads_with_a_version_hash(tree: Path) -> None:
    content = load_content(tree)
    assert set(content.locales["en"].intents) >= {"naloxone", "crisis_overdose"}
    assert len(content.version) == 12


def test_broken_yaml_names_file_and_line(tree: Path) -> None:
    problems = problems_after(tree, "intents/en/main.yml", "    title: Naloxone\n", "    title: [Naloxone\n")
    assert len(problems) == 1
    line = line_of(tree, "intents/en/main.yml", "title: [Naloxone")
    assert problems[0].startswith(
        f"intents/en/main.yml:{line + 1}: error: YAML syntax"
    )  # where the parser stops
    assert "expected ',' or ']'" in problems[0]


def test_unknown_response_id_is_reported_at_the_intent(tree: Path) -> None:
    problems = problems_after(tree, "intents/en/main.yml", "response: naloxone", "response: narcan_info")
    line = line_of(tree, "intents/en/main.yml", "response: narcan_info")
    assert any(f"main.yml:{line}:" in p and "unknown response 'narcan_info'" in p for p in problems)


def test_follow_up_to_unknown_intent_is_reported(tree: Path) -> None:
    problems = problems_after(tree, "intents/en/main.yml", "intent: overdose_signs", "intent: od_signs")
    assert any("follow-up to unknown intent 'od_signs'" in p for p in problems)


def test_unknown_placeholder_is_reported_with_the_known_ones(tree: Path) -> None:
    problems = problems_after(tree, "responses/en/all.yml", "{crisis_line}", "{crisis_number}")
    assert any("unknown placeholder {crisis_number}" in p and "{crisis_line}" in p for p in problems)


def test_region_missing_a_number_is_reported(tree: Path) -> None:
    problems = problems_after(tree, "resources/regions.yml", '    poison_line: "NHS 111"\n', "")
    assert any("region 'uk' is missing 'poison_line'" in p for p in problems)


@pytest.mark.parametrize(("written", "read_as"), [("000", "0"), ("911", "911"), ("13.11", "13.11")])
def test_unquoted_number_in_a_region_is_an_error_that_says_how_to_quote_it(
    tree: Path, written: str, read_as: str
) -> None:
    problems = problems_after(
        tree, "resources/regions.yml", 'emergency_number: "911"', f"emergency_number: {written}"
    )
    line = line_of(tree, "resources/regions.yml", f"emergency_number: {written}")
    assert problems == [
        f"resources/regions.yml:{line}: error: region 'us': 'emergency_number' is an unquoted number, "
        f"so YAML reads {written} as the number {read_as} "
        f"(fix: quote it: '{written}' (numbers people dial must be text))"
    ]


def test_unquoted_number_in_a_regions_spanish_block_is_an_error(tmp_path: Path) -> None:
    tree = write_two_locale_content(tmp_path)
    problems = problems_after(
        tree,
        "resources/regions.yml",
        '    poison_line: "NHS 111"\n',
        '    poison_line: "NHS 111"\n    es:\n      emergency_number: 000\n',
    )
    line = line_of(tree, "resources/regions.yml", "      emergency_number: 000")
    assert len(problems) == 1
    assert problems[0].startswith(f"resources/regions.yml:{line}: error: region 'uk', locale 'es': ")
    assert "reads 000 as the number 0" in problems[0] and "quote it: '000'" in problems[0]


CRISIS_TWO = "crisis_overdose two. Crisis line {crisis_line}. Call {emergency_number}."


@pytest.mark.parametrize(
    ("variant", "missing"),
    [
        ("crisis_overdose two. Crisis line {crisis_line}.", "{emergency_number}"),
        ("crisis_overdose two. Call {emergency_number}.", "{crisis_line}"),
        ("crisis_overdose two. Stay with them.", "{emergency_number} or {crisis_line}"),
    ],
)
def test_crisis_reply_variant_without_the_emergency_number_or_crisis_line_is_an_error(
    tree: Path, variant: str, missing: str
) -> None:
    problems = problems_after(tree, "responses/en/all.yml", CRISIS_TWO, variant)
    line = line_of(tree, "responses/en/all.yml", variant)
    assert problems == [
        f"responses/en/all.yml:{line}: error: crisis response 'crisis_overdose' (en), variant 2, "
        f"does not give {missing} (fix: every variant of a crisis reply must include "
        "{emergency_number} and {crisis_line}; the numbers come from resources/regions.yml)"
    ]


def test_crisis_reply_with_a_phone_number_typed_in_is_an_error(tree: Path) -> None:
    variant = CRISIS_TWO + " Or call 1-800-662-4357."
    problems = problems_after(tree, "responses/en/all.yml", CRISIS_TWO, variant)
    line = line_of(tree, "responses/en/all.yml", variant)
    assert problems == [
        f"responses/en/all.yml:{line}: error: crisis response 'crisis_overdose' (en), variant 2, "
        "has a number written in it: '1-800-662-4357' (fix: write {emergency_number} and "
        "{crisis_line} instead: numbers belong only in resources/regions.yml, where each region has its own)"
    ]


def test_crisis_reply_that_types_911_instead_of_the_placeholder_gets_both_errors(tree: Path) -> None:
    problems = problems_after(
        tree, "responses/en/all.yml", CRISIS_TWO, "crisis_overdose two. Crisis line {crisis_line}. Call 911."
    )
    assert len(problems) == 2
    assert "does not give {emergency_number}" in problems[0]
    assert "has a number written in it: '911'" in problems[1]


def test_crisis_replies_are_checked_in_every_locale(tmp_path: Path) -> None:
    tree = write_two_locale_content(tmp_path)
    problems = problems_after(tree, "responses/es/all.yml", CRISIS_TWO, "crisis_overdose dos. Llama al 112.")
    assert problems and all(p.startswith("responses/es/all.yml:") for p in problems)
    assert any("crisis response 'crisis_overdose' (es), variant 2, does not give" in p for p in problems)
    assert any("has a number written in it: '112'" in p for p in problems)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("1. <b>Wake them.</b> No response in 2-3 minutes? 24/7, 15-20 min.\n2. Stay.", []),
        ("Call 911 or 000", ["911", "000"]),
        ("Lifeline: 13 11 14, Samaritans 116 123", ["13 11 14", "116 123"]),
        ("(03) 9999 1234 or +44 161 496 0101", ["(03) 9999 1234", "+44 161 496 0101"]),
        ('<a href="https://988lifeline.org">the lifeline</a>', ["988"]),
    ],
)
def test_only_digits_that_could_be_dialled_count_as_a_number_in_a_crisis_reply(
    text: str, numbers: list[str]
) -> None:
    assert dialable_numbers(text) == numbers


def test_same_example_under_two_intents_is_an_error(tree: Path) -> None:
    problems = problems_after(
        tree, "intents/en/main.yml", "      - what can you do\n", "      - Where can I get NALOXONE?\n"
    )
    line = line_of(tree, "intents/en/main.yml", "Where can I get NALOXONE")
    assert any("also an example of 'naloxone'" in p and f"main.yml:{line}:" in p for p in problems)


def test_duplicate_intent_id_is_reported(tree: Path) -> None:
    problems = problems_after(tree, "intents/en/main.yml", "id: privacy", "id: bot_help")
    assert any("duplicate intent id 'bot_help'" in p for p in problems)


def test_invalid_pattern_is_reported_with_its_line(tree: Path) -> None:
    problems = problems_after(tree, "intents/en/main.yml", "patterns: [", "patterns: ['(unclosed', ")
    line = line_of(tree, "intents/en/main.yml", "(unclosed")
    assert any(f"main.yml:{line}:" in p and "invalid pattern" in p for p in problems)


def test_misspelt_key_is_reported_with_allowed_keys(tree: Path) -> None:
    problems = problems_after(
        tree, "intents/en/main.yml", "    examples:\n      - what can", "    exmaples:\n      - what can"
    )
    assert any("unknown key 'exmaples'" in p and "allowed:" in p for p in problems)


def test_html_that_telegram_rejects_is_reported(tree: Path) -> None:
    problems = problems_after(tree, "responses/en/all.yml", "'naloxone one.", "'<div>naloxone</div> & one.")
    assert any("<div> is not allowed" in p for p in problems)
    assert any("bare '&'" in p for p in problems)


def test_missing_system_response_is_reported(tree: Path) -> None:
    problems = problems_after(tree, "responses/en/all.yml", "  fallback_again:\n", "  fallback_again_x:\n")
    assert any("system response 'fallback_again' is missing" in p for p in problems)


def test_yes_and_no_in_yaml_stay_text(tree: Path) -> None:
    content = load_content(tree)
    assert "yes" in content.locales["en"].short_replies["yes"]
    assert "no" in content.locales["en"].short_replies["no"]


def test_every_problem_is_reported_not_just_the_first(tree: Path) -> None:
    (tree / "intents/en/main.yml").write_text(
        (tree / "intents/en/main.yml").read_text().replace("response: naloxone", "response: x1")
    )
    problems = problems_after(tree, "responses/en/all.yml", "{crisis_line}", "{nope}")
    assert len(problems) >= 2


def test_strict_findings_flag_few_examples_and_long_responses(tree: Path) -> None:
    path = tree / "responses/en/all.yml"
    path.write_text(path.read_text().replace("'naloxone one.", "'" + "long " * 200 + "naloxone one."))
    findings = [str(f) for f in quality_findings(load_content(tree))]
    assert any("intent 'naloxone' has 2 examples" in f for f in findings)
    assert any("response 'naloxone' has a variant of" in f for f in findings)


def test_shipped_content_is_valid() -> None:
    content = load_content()
    assert "en" in content.locales
    assert {"us", "ca", "uk", "ie", "au"} <= set(content.regions)
