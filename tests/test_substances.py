"""Substances: recognising names in messages, telling mixing questions apart, and validating the YAML."""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.brain import Brain
from bot.cli import main
from bot.errors import ContentError
from bot.substances.advice import MixingAdvisor
from bot.substances.loader import NOTE_MAX_CHARS, SAFE_WORDS, load_guide
from bot.substances.model import RISK_LEVELS, MixingGuide
from bot.substances.recogniser import about_taking_together
from tests.minimal_content import write_minimal_content

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def guide() -> MixingGuide:
    loaded, problems = load_guide(ROOT)
    assert loaded is not None, problems
    return loaded


@pytest.fixture(scope="module")
def advisor(guide: MixingGuide) -> MixingAdvisor:
    return MixingAdvisor(guide)


# -- recognition -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("can i take xanex with my methadon", ("alprazolam", "methadone")),
        ("took my suboxon and some klonopine", ("buprenorphine", "clonazepam")),
        ("is it ok to drink on subs", ("alcohol", "buprenorphine")),
        ("mixing coke and molly", ("cocaine", "mdma")),
        ("herion and fetty", ("heroin", "fentanyl")),
        ("crystal meth and a few beers", ("methamphetamine", "alcohol")),
        ("tranq dope and bars", ("xylazine", "alprazolam")),
        ("gabapentine with my oxys", ("gabapentin", "oxycodone")),
        ("zoloft and molly", ("sertraline", "mdma")),
        ("puedo tomar rivotril con cerveza", ("clonazepam", "alcohol")),
        ("perico y guaro", ("cocaine", "alcohol")),
        ("COCAÍNA con Alcohol!!", ("cocaine", "alcohol")),
        ("ketamina y mota", ("ketamine", "cannabis")),
    ],
)
def test_substances_are_recognised_with_typos_slang_accents_and_spanish(
    advisor: MixingAdvisor, text: str, expected: tuple[str, ...]
) -> None:
    assert advisor.recogniser.substances(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "that was a heroic effort, i need a new method",
        "we went to the bars with some mates",
        "can i drink water with it",
        "me and my kids went to the cocina",
        "i feel ecstatic and my joint pain is gone",
        "ok k thanks, x marks the spot",
        "la certeza de que mi método funciona",
    ],
)
def test_everyday_words_are_not_taken_for_substances(advisor: MixingAdvisor, text: str) -> None:
    assert advisor.recogniser.substances(text) == ()


def test_ambiguous_name_still_counts_when_used_as_a_drug(advisor: MixingAdvisor) -> None:
    assert advisor.recogniser.substances("took two bars and drank") == ("alprazolam", "alcohol")
    assert advisor.recogniser.substances("drinking at the bars") == ("alcohol",)


@pytest.mark.parametrize(
    ("text", "together"),
    [
        ("can i take xanax with my methadone", True),
        ("is it ok to drink on subs", True),
        ("coke + molly", True),
        ("puedo tomar xanax con metadona", True),
        ("xanax y metadona", True),
        ("what's the difference between methadone and suboxone", False),
        ("methadone or suboxone, which is better", False),
        ("how long after my last fent before starting subs", False),
    ],
)
def test_taking_together_is_told_apart_from_comparing_or_switching(
    guide: MixingGuide, text: str, together: bool
) -> None:
    assert about_taking_together(text, guide.lexicon.cues) is together


# -- pairs -----------------------------------------------------------------------------


def test_three_substances_give_every_pair_most_dangerous_first(advisor: MixingAdvisor) -> None:
    advice = advisor.advise("coke, molly and poppers together")
    assert advice is not None
    pairs = [(p.first.id, p.second.id) for p in advice.known + advice.unknown]
    assert sorted(map(sorted, pairs)) == sorted(
        map(sorted, [("cocaine", "mdma"), ("cocaine", "poppers"), ("mdma", "poppers")])
    )
    ranks = [p.rank for p in advice.known]
    assert ranks == sorted(ranks)
    assert advice.unknown and advice.unknown[0].combination is None  # poppers + stimulants has no row


def test_most_specific_row_wins_over_the_class_row(guide: MixingGuide) -> None:
    subs = guide.lexicon.substances
    row = guide.combination(subs["methadone"], subs["alprazolam"])
    assert row is not None and set(row.pair) == {"methadone", "benzodiazepine"}
    assert "2017" in row.citation
    heroin_row = guide.combination(subs["heroin"], subs["alprazolam"])
    assert heroin_row is not None and set(heroin_row.pair) == {"opioid", "benzodiazepine"}


def test_one_substance_is_not_a_combination(advisor: MixingAdvisor) -> None:
    assert advisor.advise("is it ok to mix xanax") is None
    assert advisor.advise("xanax and bars together") is None  # two names, one substance


def test_spanish_notes_and_labels_are_used_for_spanish(advisor: MixingAdvisor) -> None:
    advice = advisor.advise("puedo tomar xanax con metadona")
    assert advice is not None
    block = advisor.pair_block(advice.known[0], "es")
    assert "Peligrosa" in block and "metadona" in block and "sobredosis" in block and "naloxona" in block
    assert "Dangerous" in advisor.pair_block(advice.known[0], "en")


def test_shipped_table_covers_every_level_and_never_calls_a_mix_safe(guide: MixingGuide) -> None:
    assert {row.risk for row in guide.combinations.values()} == set(RISK_LEVELS)
    for row in guide.combinations.values():
        assert row.citation
        for locale, note in row.notes.items():
            assert not SAFE_WORDS[locale].search(note), (row.pair, locale)
            assert len(note) <= NOTE_MAX_CHARS


# -- validation ------------------------------------------------------------------------


def _break(root: Path, name: str, old: str, new: str) -> int:
    """Replace text in substances/<name>; return the line the new text starts on."""
    path = root / "substances" / name
    text = path.read_text()
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text[: text.index(new)].count("\n") + 1


def _problems(root: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        Brain.load(root)
    return [str(p) for p in caught.value.problems]


def test_minimal_tree_with_substances_loads(tmp_path: Path) -> None:
    brain = Brain.load(write_minimal_content(tmp_path))
    assert brain.mixing is not None


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("lexicon.yml", "class: stimulant", "class: stimulants", "unknown class 'stimulants'"),
        ("lexicon.yml", "ambiguous: [coke]", "ambiguous: [coke, xanax]", "name 'xanax' belongs to both"),
        ("lexicon.yml", "ambiguous: [coke]", "ambiguous: [k]", "name 'k' of 'cocaine' is too short"),
        ("combinations.yml", "risk: dangerous", "risk: deadly", "unknown risk level 'deadly'"),
        ("combinations.yml", "risk: dangerous", "risk: safe", "unknown risk level 'safe'"),
        ("combinations.yml", "pair: [opioid, benzodiazepine]", "pair: [opioid, benzo]", "unknown substance"),
        ("combinations.yml", "source: FDA Drug Safety Communication, 2016", "source: ''", "has no 'source'"),
        (
            "combinations.yml",
            "en: Raises overdose risk.",
            "en: This mix is safe in small amounts. Raises overdose risk.",
            "calls a combination 'safe' (en)",
        ),
        (
            "combinations.yml",
            "Keep naloxone close and never use alone.",
            "Never use alone.",
            "must mention naloxone",
        ),
        (
            "combinations.yml",
            "      es: Aumenta el riesgo de sobredosis. Ten naloxona cerca y no consumas a solas.\n",
            "      fr: Risque de surdose.\n",
            "the note has no 'es' text",
        ),
    ],
)
def test_substance_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    root = write_minimal_content(tmp_path)
    line = _break(root, name, old, new)
    problems = _problems(root)
    matching = [p for p in problems if message in p]
    assert matching, problems
    assert matching[0].startswith(f"substances/{name}:"), matching
    reported = int(matching[0].split(":")[1])
    assert abs(reported - line) <= 3, (reported, line, matching)  # the row, its key or the item itself


def test_pair_listed_twice_points_at_the_second_row_and_the_first(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path)
    path = root / "substances" / "combinations.yml"
    text = path.read_text()
    row = text[text.index("  - pair:") :]
    path.write_text(text + row.replace("[opioid, benzodiazepine]", "[benzodiazepine, opioid]"))
    second = (text + row).count("\n", 0, len(text)) + 1
    problems = [p for p in _problems(root) if "listed twice" in p]
    assert problems and problems[0].startswith(f"substances/combinations.yml:{second}:")
    assert "combinations.yml:" in problems[0].split("other is at ")[1]


def test_missing_combinations_file_is_named(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path)
    (root / "substances" / "combinations.yml").unlink()
    assert any(p.startswith("substances/combinations.yml: error: file is missing") for p in _problems(root))


def test_validate_reports_substance_and_intent_problems_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_minimal_content(tmp_path)
    _break(root, "combinations.yml", "risk: dangerous", "risk: deadly")
    intents = root / "intents" / "en" / "main.yml"
    intents.write_text(intents.read_text().replace("response: naloxone", "response: nowhere"))
    assert main(["--content", str(root), "validate"]) == 1
    err = capsys.readouterr().err
    assert "substances/combinations.yml:" in err and "unknown risk level 'deadly'" in err
    assert "intents/en/main.yml:" in err and "unknown response 'nowhere'" in err


@functools.cache
def _shipped_advisor() -> MixingAdvisor:
    guide, problems = load_guide(ROOT)
    assert guide is not None, problems
    return MixingAdvisor(guide)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_known_substances_or_none(text: str) -> None:
    advisor = _shipped_advisor()
    found = advisor.recogniser.substances(text)
    assert all(s in advisor.guide.lexicon.substances for s in found)
    advice = advisor.advise(text)
    assert advice is None or len(advice.substances) >= 2


def test_every_shipped_accented_name_is_recognised_with_or_without_its_accents(
    advisor: MixingAdvisor,
) -> None:
    lexicon = yaml.safe_load((ROOT / "substances" / "lexicon.yml").read_text(encoding="utf-8"))
    accented = [
        (name, entry["id"])
        for entry in lexicon["substances"]
        for key in ("names", "exact", "ambiguous")
        for name in entry.get(key, [])
        if not name.isascii()
    ]
    assert accented, "the shipped lexicon has Spanish names with accents"
    for name, substance in accented:
        bare = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
        assert advisor.recogniser.substances(f"tomé {name} con alcohol") == (substance, "alcohol"), name
        assert advisor.recogniser.substances(f"tome {bare.upper()} con alcohol") == (substance, "alcohol"), (
            name
        )
