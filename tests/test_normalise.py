"""Normalising: whatever people type becomes plain, comparable text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlu.normalise import MAX_CHARS, Normaliser, basic_normalise


def test_case_punctuation_and_emoji_are_dropped() -> None:
    assert basic_normalise("Where can I get NARCAN?!! 🙏🙏") == "where can i get narcan"


def test_apostrophes_of_every_kind_vanish_inside_words() -> None:
    assert basic_normalise("don't") == basic_normalise("don’t") == "dont"


def test_repeated_letters_are_collapsed() -> None:
    assert basic_normalise("pleeeease helllp") == "please help"


def test_digits_are_not_collapsed() -> None:
    assert basic_normalise("call 1000 or 911") == "call 1000 or 911"


def test_fullwidth_and_compatibility_forms_fold() -> None:
    assert basic_normalise("ＮＡＲＣＡＮ ﬁne") == "narcan fine"


def test_zero_width_and_control_characters_are_removed() -> None:
    assert basic_normalise("nar\u200bcan\x00\x07 now\u202e") == "narcan now"


def test_synonyms_rewrite_whole_words_longest_first() -> None:
    normalise = Normaliser({"dope sick": "withdrawal", "dope": "heroin", "narcan": "naloxone"})
    assert normalise("so DOPE SICK, need narcan") == "so withdrawal need naloxone"
    assert normalise("dopey narcanx") == "dopey narcanx"


def test_synonym_output_is_not_rewritten_again() -> None:
    normalise = Normaliser({"subs": "buprenorphine", "buprenorphine": "bupe"})
    assert normalise("subs") == "buprenorphine"


def test_huge_input_is_capped() -> None:
    assert len(basic_normalise("a b " * 20_000)) <= MAX_CHARS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=5000))
def test_any_text_normalises_to_clean_lowercase_words(text: str) -> None:
    out = basic_normalise(text)
    assert out == out.strip()
    assert "  " not in out
    assert all(ch == " " or unicodedata.category(ch)[0] in "LNM" for ch in out)
    assert basic_normalise(out) == out
